package dev.parley.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bench}: the load generator, the main class of its own jar ({@code java -jar
 * bench/target/parley-bench.jar fanout ...}, or {@code ./parley bench fanout ...}). It speaks
 * PROTOCOL.md to one or more nodes like any client: registers users over HTTP, opens WebSockets,
 * joins and sends. One command does not: {@code load} writes a stopped server's database with JDBC,
 * to give {@code query} (and the other scenarios) a large store to read (see {@link Loader}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Load generator: speaks the chat protocol to running servers and measures them.",
                "Raise the server's limits for load runs: serve --rate-limit 100000 --rate-burst 100000 --registrations-per-ip 1000000 --max-connections-per-ip 0.",
                "load fills a STOPPED server's store (H2 or PostgreSQL) for query, which measures search, history and resume latency on it.",
                "storm kills (or drains) a node under traffic and measures how its clients come back.",
                "docs/BENCHMARKS.md has the method and the numbers."},
        subcommands = {FanoutCommand.class, SaturationCommand.class, CapacityCommand.class, StubCommand.class, ChartCommand.class,
                LoadCommand.class, QueryCommand.class, StormCommand.class})
public final class BenchCommand implements Runnable {
    /** Its stdout is the report (JSON with --json): the few log lines go to stderr (logback.xml). */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        return new CommandLine(new BenchCommand());
    }

    @Override
    public void run() {
        commandLine().usage(System.out);
    }
}
