package dev.parley.durability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A whole node on the embedded store whose disk fills up for real: its data dir is on a small
 * tmpfs, filled to the last byte while a client sends. H2's background write then fails, and with
 * it every commit after; DatabaseFaultTest simulates that closing, this test lets the kernel's
 * ENOSPC cause it. Sends after it must be refused with {@code unavailable} on a connection that
 * lives on, and once the disk has room again, a restart must hold exactly the acknowledged messages
 * at their seqs, those H2 never wrote restored from the journal.
 *
 * <p>Mounting needs root with the right to mount (CI's machine and the development VM have it); where
 * {@code mount} is refused the test is skipped and says so.
 */
class FullDiskTest {
    private static final String ROOM = "disk";
    private static final String TEXT = "x".repeat(3_000); // fills the little disk in fewer sends

    @Test
    void a_disk_that_fills_up_refuses_sends_and_loses_no_acknowledged_message() throws Exception {
        Path mount = Files.createTempDirectory("parley-full-disk");
        Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount.toString()).redirectErrorStream(true).start();
        String output = new String(m.getInputStream().readAllBytes()).trim();
        boolean mounted = m.waitFor(10, TimeUnit.SECONDS) && m.exitValue() == 0;
        if (!mounted) Files.deleteIfExists(mount);
        assumeTrue(mounted, () -> "cannot mount a tmpfs here: " + output);
        // One send at a time, answered before the next: the rate limit is not what is tested here.
        ParleyServer node = ParleyServer.create().with(Setting.DATA_DIR, mount.resolve("data").toString())
                .with(Setting.RATE_LIMIT, "100000").with(Setting.RATE_BURST, "100");
        Path filler = mount.resolve("filler");
        try {
            node.start();
            String token = node.newUser("disk");
            Map<String, Long> acked = new LinkedHashMap<>();
            List<String> refusals = new ArrayList<>();
            try (WsClient c = node.connect(token)) {
                c.send("type", "join", "room", ROOM, "ref", "j");
                c.await("joined", "j");
                for (int i = 0; i < 20; i++) send(c, "before-" + i, acked, refusals);
                assertThat(refusals).as("refusals before the disk is full").isEmpty();

                fill(filler);
                // The journal's file has its room already, so sends are acknowledged until H2's next
                // write of its pages finds no room. From then on they are refused (a commit or two may
                // still pass between H2's failed write and its closing, each in the journal too);
                // five refusals in a row show it is not a passing fault. Bounded in time, not in sends.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                int i = 0, inARow = 0;
                while (inARow < 5 && System.nanoTime() < deadline) {
                    int before = refusals.size();
                    send(c, "full-" + i++, acked, refusals);
                    inARow = refusals.size() > before ? inARow + 1 : 0;
                }
                assertThat(inARow).as("refusals in a row on the full disk, after %d sends", i).isEqualTo(5);
                assertThat(refusals).as("what the sends on the full disk were refused with").containsOnly("unavailable");

                // The connection lives on: it still answers.
                c.send("type", "ping", "ref", "p");
                c.await("pong", "p");
            }

            Files.delete(filler);
            node.restart();
            assertThat(history(node, token)).as("the room's history after a restart with room on the disk, by clientId").isEqualTo(acked);
        } finally {
            try {
                node.stop();
            } finally {
                new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
                Files.deleteIfExists(mount);
            }
        }
    }

    private static void send(WsClient c, String id, Map<String, Long> acked, List<String> refusals) {
        c.send("type", "send", "room", ROOM, "text", id + " " + TEXT, "clientId", id, "ref", id);
        JsonNode answer = c.await(f -> id.equals(f.path("ref").asText()) && ("ack".equals(f.path("type").asText()) || "error".equals(f.path("type").asText())),
                Duration.ofSeconds(10), "the answer to " + id);
        if ("ack".equals(answer.path("type").asText())) acked.put(id, answer.path("seq").asLong());
        else refusals.add(answer.path("code").asText());
    }

    /** Writes to the file until the kernel says there is no room left. */
    private static void fill(Path filler) throws IOException {
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) out.write(block);
        } catch (IOException e) {
            assertThat(e.getMessage()).as("why the filler stopped").containsIgnoringCase("no space left");
        }
    }

    private static Map<String, Long> history(ParleyServer node, String token) {
        Map<Long, String> ids = new TreeMap<>();
        String before = "";
        while (true) {
            JsonNode page = node.http().get("/api/rooms/" + ROOM + "/messages?limit=100" + before, token).json().get("messages");
            if (page.isEmpty()) break;
            long oldest = Long.MAX_VALUE;
            for (JsonNode msg : page) {
                ids.put(msg.get("seq").asLong(), msg.get("clientId").asText());
                oldest = Math.min(oldest, msg.get("seq").asLong());
            }
            before = "&before=" + oldest;
        }
        Map<String, Long> inOrder = new LinkedHashMap<>();
        ids.forEach((seq, id) -> inOrder.put(id, seq));
        return inOrder;
    }
}
