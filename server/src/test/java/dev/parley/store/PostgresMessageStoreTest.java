package dev.parley.store;

import dev.parley.testing.Postgres;

/** The store on a real PostgreSQL, as a cluster runs it. */
class PostgresMessageStoreTest extends MessageStoreContract {
    @Override
    protected Target newTarget() {
        return new Target(Postgres.shared().newDatabase(), "postgres", "postgres");
    }

    /** A PostgreSQL server of its own, so that stopping it disturbs no other test. */
    @Override
    protected Outage newOutage() {
        Postgres pg = Postgres.startNew();
        String url = pg.newDatabase();
        return new Outage() {
            @Override
            public Target target() {
                return new Target(url, "postgres", "postgres");
            }

            @Override
            public void stop() {
                pg.stop();
            }

            @Override
            public void start() {
                pg.startAgain();
            }

            @Override
            public void close() {
                pg.destroy();
            }
        };
    }
}
