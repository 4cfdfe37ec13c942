-- Rooms people can trust (issue 19): room kinds, members with roles, bans, and room events in the
-- timeline. H2 (MODE=PostgreSQL) and PostgreSQL alike.

-- kind: 'public', 'private' or 'direct'. A deleted room keeps its row (and its last_seq, so that a
-- room made again under its name goes on with the next seq: nodes and clients never see a seq go
-- back); it is no room for anyone until it is made again. members counts room_members rows.
ALTER TABLE rooms ADD COLUMN kind VARCHAR(8) NOT NULL DEFAULT 'public';
ALTER TABLE rooms ADD COLUMN topic VARCHAR(256);
ALTER TABLE rooms ADD COLUMN members INT NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
-- A direct room's two users, in name order, separated by a space.
ALTER TABLE rooms ADD COLUMN direct_users VARCHAR(140);
-- The room listing pages public rooms by name without reading the others.
CREATE INDEX rooms_kind_name ON rooms (kind, name);

-- A room event is a row of messages with kind set (null for a message) and its fields in event_data, as JSON.
ALTER TABLE messages ADD COLUMN kind VARCHAR(16);
ALTER TABLE messages ADD COLUMN event_data VARCHAR(2000);

-- Members by their username in lower case (usernames are unique in any letter case), with the
-- name as written. role: 'owner', 'moderator' or 'member'.
CREATE TABLE room_members (
    room        VARCHAR(128) NOT NULL,
    user_key    VARCHAR(64)  NOT NULL,
    username    VARCHAR(64)  NOT NULL,
    role        VARCHAR(16)  NOT NULL,
    muted_until BIGINT,
    added_at    BIGINT       NOT NULL,
    CONSTRAINT room_members_pk PRIMARY KEY (room, user_key)
);
-- A user's rooms, for the listing.
CREATE INDEX room_members_user ON room_members (user_key, room);

CREATE TABLE room_bans (
    room      VARCHAR(128) NOT NULL,
    user_key  VARCHAR(64)  NOT NULL,
    username  VARCHAR(64)  NOT NULL,
    banned_by VARCHAR(64)  NOT NULL,
    reason    VARCHAR(1000),
    banned_until BIGINT,
    banned_at BIGINT       NOT NULL,
    CONSTRAINT room_bans_pk PRIMARY KEY (room, user_key)
);
