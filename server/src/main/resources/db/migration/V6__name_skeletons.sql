-- Look-alike names (issue 20): each username and room name with its look-alike key, the Unicode
-- TS #39 skeleton of the name (chat.Names.key: aIice and alice both have alice), unique, so that a
-- new name that looks like a taken one is refused. H2 (MODE=PostgreSQL) and PostgreSQL alike.
--
-- The key is computed in Java (ICU), so this leaves it empty (NULL, which a unique index allows
-- many times) for the names taken before: every node fills them at start-up (store.Keys). A direct
-- room has none: its name is made by the server, not chosen. A deleted account or room keeps its
-- key, as it keeps its name.
ALTER TABLE users ADD COLUMN username_skeleton VARCHAR(512);
CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton);
ALTER TABLE rooms ADD COLUMN skeleton VARCHAR(512);
CREATE UNIQUE INDEX rooms_skeleton ON rooms (skeleton);
