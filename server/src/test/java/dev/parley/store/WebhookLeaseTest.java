package dev.parley.store;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

/** Webhook leases on the embedded H2. */
class WebhookLeaseTest extends WebhookLeaseContract {
    @TempDir
    Path tmp;

    @Override
    protected Database newDatabase() {
        return new Database(ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl(), "", "", 4);
    }
}
