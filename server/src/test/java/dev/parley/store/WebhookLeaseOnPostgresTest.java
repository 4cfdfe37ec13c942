package dev.parley.store;

import dev.parley.testing.Postgres;

/** Webhook leases on a real PostgreSQL, which the nodes of a cluster share. */
class WebhookLeaseOnPostgresTest extends WebhookLeaseContract {
    @Override
    protected Database newDatabase() {
        return new Database(Postgres.shared().newDatabase(), "postgres", "postgres", 4);
    }
}
