-- Bots (issue 23): service accounts that post through the HTTP API with an API key. H2
-- (MODE=PostgreSQL) and PostgreSQL alike.

-- A bot is an account (its name is taken like any user's, look-alikes included) with no password:
-- password_hash '' and issuer 'parley:bot', so nobody logs in to it; only its API keys act as it.
ALTER TABLE users ADD COLUMN bot BOOLEAN NOT NULL DEFAULT FALSE;

-- Every client marks a bot's message: the flag is kept with the message, so history shows it as the
-- live frame did. A constant default: PostgreSQL adds the column without rewriting the table.
ALTER TABLE messages ADD COLUMN bot BOOLEAN NOT NULL DEFAULT FALSE;

-- A bot's API keys (bot: its username in lower case, as users.username_lower). The key itself is never stored: key_hash is the SHA-256 (hex) of the whole key,
-- which is 32 random bytes, so a lookup by hash is the check. prefix: its first characters, for
-- people to tell keys apart. rooms: NULL for every room, else the room names one per line. actions:
-- comma-separated, of post, read, manage. revoked_at: NULL while the key works; a revoked key keeps
-- its row (listing shows it no more) and a revocations row tells every node at once.
CREATE TABLE api_keys (
    id           VARCHAR(32)  NOT NULL PRIMARY KEY,
    bot          VARCHAR(64)  NOT NULL,
    key_hash     VARCHAR(64)  NOT NULL,
    prefix       VARCHAR(16)  NOT NULL,
    rooms        VARCHAR,
    actions      VARCHAR(64)  NOT NULL,
    created_at   BIGINT       NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    CONSTRAINT api_keys_hash UNIQUE (key_hash)
);
CREATE INDEX api_keys_bot ON api_keys (bot);
