-- One schema for H2 (MODE=PostgreSQL) and PostgreSQL.
CREATE TABLE users (
    username       VARCHAR(64)  NOT NULL PRIMARY KEY,
    username_lower VARCHAR(64)  NOT NULL,
    password_hash  VARCHAR(100) NOT NULL,
    created_at     BIGINT       NOT NULL,
    CONSTRAINT users_username_lower UNIQUE (username_lower)
);

-- last_seq is the room's sequence: appends lock this row, so seqs are gap-free across nodes.
CREATE TABLE rooms (
    name       VARCHAR(128) NOT NULL PRIMARY KEY,
    last_seq   BIGINT       NOT NULL DEFAULT 0,
    created_at BIGINT       NOT NULL
);

CREATE TABLE messages (
    room      VARCHAR(128) NOT NULL,
    seq       BIGINT       NOT NULL,
    id        VARCHAR(32)  NOT NULL,
    sender    VARCHAR(64)  NOT NULL,
    client_id VARCHAR(64)  NOT NULL,
    text      VARCHAR      NOT NULL,
    ts        BIGINT       NOT NULL,
    CONSTRAINT messages_pk PRIMARY KEY (room, seq),
    -- A retried send finds its first copy here; it survives restarts because it is in the database.
    CONSTRAINT messages_client UNIQUE (room, sender, client_id)
);
