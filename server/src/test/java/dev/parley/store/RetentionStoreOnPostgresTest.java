package dev.parley.store;

import dev.parley.testing.Postgres;

/** Retention's sweep on a real PostgreSQL, as every node of a cluster runs it. */
class RetentionStoreOnPostgresTest extends RetentionStoreContract {
    @Override
    protected Database newDatabase() {
        return new Database(Postgres.shared().newDatabase(), "postgres", "postgres", 4);
    }
}
