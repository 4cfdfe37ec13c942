-- A password change starts a new epoch of the account's sessions: a token carries the epoch it was
-- issued under (read with the password hash it was checked against), and a password change's
-- revocation refuses every token of an older epoch. Ordered by the database, not by clocks: a
-- login that read the old hash while the change was committing gets the old epoch, and is refused.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE revocations ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
