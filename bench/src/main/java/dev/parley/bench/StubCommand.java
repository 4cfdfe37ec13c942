package dev.parley.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code bench stub}: a server that does almost nothing, to measure the bench's own ceiling against. */
@Command(name = "stub", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A stand-in server that does almost nothing: the bench's own ceiling.",
                "Speaks just enough of the protocol for the bench (register, join, send): no database, no JSON library, one pre-encoded frame per message, flushed once per event-loop turn.",
                "Point fanout or saturation at it to measure the bench's own ceiling. It is not a chat server."})
final class StubCommand implements Callable<Integer> {
    @Option(names = "--host", paramLabel = "<address>", defaultValue = "127.0.0.1", description = "address to listen on. Default: ${DEFAULT-VALUE}")
    String host;

    @Option(names = "--port", paramLabel = "<port>", defaultValue = "9090", description = "port (0 picks a free one). Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--threads", paramLabel = "<n>", defaultValue = "1", description = "event loops. Default: ${DEFAULT-VALUE}")
    int threads;

    @Option(names = "--duration", paramLabel = "<time>", converter = CommonOptions.DurationConverter.class,
            description = "stop by itself after this long. Default: run until stopped (SIGTERM, Ctrl-C)")
    Duration duration;

    @Override
    public Integer call() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        try (StubServer stub = new StubServer(host, port, threads)) {
            System.out.printf("stub server listening on http://%s:%d pid=%d%n", host, stub.port(), ProcessHandle.current().pid());
            System.out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            if (duration == null) stop.await();
            else stop.await(duration.toMillis(), TimeUnit.MILLISECONDS);
        }
        return 0;
    }
}
