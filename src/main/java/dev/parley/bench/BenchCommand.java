package dev.parley.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bench}: the load generator, in the same jar as the server. It speaks PROTOCOL.md to one or
 * more nodes like any client: registers users over HTTP, opens WebSockets, joins and sends.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Load generator: speaks the chat protocol to running servers and measures them.",
                "Raise the server's rate limit for load runs: serve --rate-limit 100000 --rate-burst 100000.",
                "docs/BENCHMARKS.md has the method and the numbers."},
        subcommands = {FanoutCommand.class, SaturationCommand.class, CapacityCommand.class, StubCommand.class})
public final class BenchCommand implements Runnable {
    public static CommandLine commandLine() {
        return new CommandLine(new BenchCommand());
    }

    @Override
    public void run() {
        commandLine().usage(System.out);
    }
}
