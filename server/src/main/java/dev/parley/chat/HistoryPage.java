package dev.parley.chat;

import dev.parley.event.Message;

import java.util.List;

/**
 * One page of a room's messages under the paging rules of PROTOCOL.md: ascending by seq, and
 * {@code hasMore} exact; {@code historyStart}, where the room's history starts (seqs below it are
 * gone). The use cases' own type, so that the transports never see the store's.
 */
public record HistoryPage(List<Message> messages, boolean hasMore, long historyStart) {}
