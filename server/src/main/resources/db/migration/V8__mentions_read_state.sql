-- Mentions and read state across devices (issue 21, items 5 and 6). H2 (MODE=PostgreSQL) and PostgreSQL alike.

-- Whom a message mentions, as its text says it (event.Mentions): the usernames in lower case, each
-- between spaces (' alice bob '), so that "is alice mentioned" is POSITION(' alice ' IN mentions);
-- null when the text mentions nobody, and for room events. Written with the message, by the group
-- commit: no statement more per message.
ALTER TABLE messages ADD COLUMN mentions VARCHAR(1400);

-- Each user's read marker per room: the highest seq they marked read ('read' frames, and their
-- arrival as a member). Never lowered. Keyed by the user first: a user's markers are what the room
-- list reads, with one look-up per listed room.
CREATE TABLE read_markers (
    user_key VARCHAR(64)  NOT NULL,
    room     VARCHAR(128) NOT NULL,
    seq      BIGINT       NOT NULL,
    CONSTRAINT read_markers_pk PRIMARY KEY (user_key, room)
);

-- The members there are already have read what there is: an upgrade shows no room full of unread.
INSERT INTO read_markers (user_key, room, seq)
    SELECT m.user_key, m.room, r.last_seq FROM room_members m JOIN rooms r ON r.name = m.room WHERE NOT r.deleted;
