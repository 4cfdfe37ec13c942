package dev.parley.bench;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every command's --help is what its source says: picocli reads descriptions as format strings, and
 * a lone {@code %} (as in "99% of") makes it print a warning and show the text unformatted.
 */
class HelpTest {
    @Test
    void every_commands_help_formats_without_a_warning() {
        PrintStream err = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        StringBuilder helps = new StringBuilder();
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            CommandLine bench = BenchCommand.commandLine();
            helps.append(bench.getUsageMessage());
            bench.getSubcommands().values().forEach(c -> helps.append(c.getUsageMessage()));
        } finally {
            System.setErr(err);
        }
        assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(helps).contains("until 99% and 100% of the dropped connections");
    }
}
