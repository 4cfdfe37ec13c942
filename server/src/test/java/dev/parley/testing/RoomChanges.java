package dev.parley.testing;

import dev.parley.event.Message;
import dev.parley.event.RoomChange;
import dev.parley.store.RoomStore;

import java.util.List;

/** Room changes the store tests make directly, as Rooms would: a deletion (without its purge), and a room made with its owner. */
public final class RoomChanges {
    private RoomChanges() {}

    /** Deletes the room, its {@code room_deleted} event first; the purge that Rooms runs after is left to the test. @return the event */
    public static Message delete(RoomStore rooms, String room, String by) {
        return rooms.change(room, by, null, st -> new RoomStore.Plan<>(List.of(
                new RoomStore.Write.Event(by, by + " deleted the room", RoomChange.of(RoomChange.ROOM_DELETED, null, by)),
                new RoomStore.Write.DeleteRoom()), null)).events().get(0);
    }

    /** Makes the room ({@code public} or {@code private}) with {@code owner} its owner. @return its {@code room_created} event */
    public static Message make(RoomStore rooms, String room, String owner, String kind) {
        return rooms.change(room, owner, null, st -> new RoomStore.Plan<>(List.of(
                new RoomStore.Write.CreateRoom(kind, null, null),
                new RoomStore.Write.PutMember(owner, "owner", null),
                new RoomStore.Write.Event(owner, owner + " made the " + kind + " room " + room,
                        new RoomChange(RoomChange.ROOM_CREATED, null, owner, null, null, null, kind, null))), null)).events().get(0);
    }
}
