package dev.parley.chat;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The cap on different rooms per user on a node, whatever the number of their connections. */
class UserRoomsTest {
    @Test
    void a_room_counts_once_whatever_the_connections_in_it() {
        UserRooms u = new UserRooms(2);
        assertThat(u.enter("alice", "a")).isTrue();
        assertThat(u.enter("alice", "a")).as("a second connection in the same room").isTrue();
        assertThat(u.enter("alice", "b")).isTrue();

        assertThat(u.enter("alice", "c")).as("a third room").isFalse();
        assertThat(u.enter("Alice", "c")).as("in any letter case").isFalse();
        assertThat(u.enter("bob", "c")).as("another user").isTrue();
    }

    @Test
    void a_room_is_let_go_when_the_last_connection_in_it_exits() {
        UserRooms u = new UserRooms(1);
        u.enter("alice", "a");
        u.enter("alice", "a");

        u.exit("alice", "a");
        assertThat(u.enter("alice", "b")).as("one connection is still in a").isFalse();
        u.exit("alice", "a");
        assertThat(u.enter("alice", "b")).isTrue();
    }

    @Test
    void exiting_a_room_not_entered_changes_nothing() {
        UserRooms u = new UserRooms(1);
        u.exit("alice", "a");
        u.enter("alice", "a");
        u.exit("alice", "b");
        assertThat(u.enter("alice", "b")).isFalse();
    }
}
