-- Outgoing webhooks (issue 23, item 3): a URL that receives a room's events, signed with the
-- webhook's secret. H2 (MODE=PostgreSQL) and PostgreSQL alike.
--
-- last_seq is how far the webhook has got in the room's one sequence: every event at or below it was
-- delivered (or is of a kind it does not take). Deliveries read what follows from messages, so a
-- restart or a node's crash loses nothing: the next holder of the lease goes on from last_seq.
-- status: 'active', 'failing' (retrying: failures in a row, next_attempt_at), 'disabled' (given up
-- after CHAT_WEBHOOK_ATTEMPTS, until re-enabled). lease_node / lease_until: the node that delivers
-- for it until then (webhook.WebhookDispatcher): one node per webhook, so one delivery in flight.
-- The secret is kept as it is: every delivery is signed with it (HMAC), so it cannot be a hash.
CREATE TABLE webhooks (
    id                VARCHAR(32)   NOT NULL PRIMARY KEY,
    room              VARCHAR(128)  NOT NULL,
    url               VARCHAR(2048) NOT NULL,
    events            VARCHAR(200)  NOT NULL,
    secret            VARCHAR(100)  NOT NULL,
    created_by        VARCHAR(64)   NOT NULL,
    created_at        BIGINT        NOT NULL,
    last_seq          BIGINT        NOT NULL,
    status            VARCHAR(16)   NOT NULL,
    failures          INT           NOT NULL DEFAULT 0,
    last_error        VARCHAR(500),
    last_attempt_at   BIGINT,
    last_delivered_at BIGINT,
    next_attempt_at   BIGINT        NOT NULL DEFAULT 0,
    lease_node        VARCHAR(64),
    lease_until       BIGINT        NOT NULL DEFAULT 0
);
CREATE INDEX webhooks_room ON webhooks (room);
