-- The seq of a room's last deletion (its room_deleted event), kept when the name is taken again: a
-- send whose sender's access was checked before it was meant for the deleted room, and the group
-- commit refuses it rather than store it in the room that took the name (WriterSession.appendAll).
-- 0 for a room never deleted. A room deleted before this column gets its first_seq where the event
-- there is its deletion's (one primary-key probe per room; a retention sweep may have cut the event
-- since, long after any send of the deleted room could still arrive).
ALTER TABLE rooms ADD COLUMN deleted_seq BIGINT NOT NULL DEFAULT 0;
UPDATE rooms SET deleted_seq = first_seq WHERE first_seq > 0 AND EXISTS
    (SELECT 1 FROM messages m WHERE m.room = rooms.name AND m.seq = rooms.first_seq AND m.kind = 'room_deleted');
