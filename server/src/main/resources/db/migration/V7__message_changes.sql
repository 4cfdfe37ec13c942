-- Edits, deletes, replies and reactions (issue 21). H2 (MODE=PostgreSQL) and PostgreSQL alike.
-- Every change of a message is a room event (a row with kind 'edited', 'deleted' or 'reaction', with
-- the room's next seq); the message's own row holds its current state, which history returns.

-- The seq of the message a message answers (send's replyTo), or null.
ALTER TABLE messages ADD COLUMN reply_to BIGINT;
-- When its text was last edited (epoch millis), or null.
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
-- The seq of its newest edit event: the one event that still holds its text (an older edit's text is
-- taken out of its event by the next edit, and the deletion takes out the last one's).
ALTER TABLE messages ADD COLUMN edit_seq BIGINT;
-- A deleted message keeps its row and seq (a tombstone) with an empty text.
ALTER TABLE messages ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
-- The seq of the newest event that changed it (edit, delete, reaction), or null: a client that has
-- this state applies only the change events after it.
ALTER TABLE messages ADD COLUMN last_change BIGINT;
-- An edit's event holds the new text, which may be as long as a message's.
ALTER TABLE messages ALTER COLUMN event_data SET DATA TYPE VARCHAR;

-- One reaction per user per emoji per message. user_key is the username in lower case.
CREATE TABLE message_reactions (
    room       VARCHAR(128) NOT NULL,
    seq        BIGINT       NOT NULL,
    emoji      VARCHAR(64)  NOT NULL,
    user_key   VARCHAR(64)  NOT NULL,
    username   VARCHAR(64)  NOT NULL,
    reacted_at BIGINT       NOT NULL,
    CONSTRAINT message_reactions_pk PRIMARY KEY (room, seq, emoji, user_key)
);
