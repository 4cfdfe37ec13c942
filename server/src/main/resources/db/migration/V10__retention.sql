-- Retention (issue 21): a room's own setting of how long its messages are kept, by age and by count.
-- NULL: the server's default (CHAT_RETENTION_DAYS, CHAT_RETENTION_MESSAGES). H2 (MODE=PostgreSQL)
-- and PostgreSQL alike.
--
-- The sweep (store.RetentionStore) moves rooms.first_seq up past what is old enough and then deletes
-- the rows below it: first_seq is where a room's history starts, for deleted rooms (V4) and trimmed
-- ones alike. It walks a room's messages by their key (room, seq), so no index on ts is needed.
ALTER TABLE rooms ADD COLUMN retention_days INT;
ALTER TABLE rooms ADD COLUMN retention_messages BIGINT;
