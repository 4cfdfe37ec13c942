package dev.parley.cli;

import dev.parley.config.Setting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ServeCommandTest {
    @Test
    void help_lists_every_flag_with_its_variable_and_default() {
        // Descriptions wrap at 80 columns, long words included (the username pattern breaks in two):
        // compare with the whitespace taken out.
        String help = ServeCommand.commandLine().getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", "");
        assertThat(help).contains("--help", "--version");
        for (Setting s : Setting.values()) {
            assertThat(help).as("help of %s", s.flag).contains(s.flag + "=<", "[env" + s.env);
            if (!s.defaultValue.isEmpty()) assertThat(help).as("default of %s", s.flag).contains(s.env + ",default" + s.defaultValue + "]");
        }
    }

    @Test
    void every_flag_is_accepted_and_keeps_its_value() {
        CommandLine cl = ServeCommand.commandLine();
        List<String> args = new ArrayList<>();
        for (Setting s : Setting.values()) {
            args.add(s.flag);
            args.add("value-of-" + s.name());
        }
        cl.parseArgs(args.toArray(String[]::new));
        for (Setting s : Setting.values()) {
            assertThat((String) cl.getCommandSpec().findOption(s.flag).getValue()).isEqualTo("value-of-" + s.name());
        }
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // were it not refused, serve would run until stopped
    void a_secret_given_as_a_flag_is_refused_before_anything_starts_and_is_not_repeated() {
        for (String[] args : new String[][] {{"--jwt-secret", "0123456789abcdef0123456789abcdef-hunter2"}, {"--database-password", "hunter2"},
                {"--redis-url", "redis://parley:hunter2@127.0.0.1:1"}}) {
            args = new String[] {args[0], args[1], "--port", "0", "--admin-port", "0", "--data-dir", "target/serve-refused"};
            PrintStream err = System.err;
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            int exit;
            try {
                System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
                exit = ServeCommand.commandLine().execute(args);
            } finally {
                System.setErr(err);
            }
            String said = captured.toString(StandardCharsets.UTF_8);
            assertThat(exit).as(args[0]).isEqualTo(2);
            assertThat(said).as(args[0]).contains("Invalid configuration: " + args[0] + ": a secret on the command line", "_FILE")
                    .doesNotContain("hunter2");
        }
    }

    @Test
    void the_help_of_a_secret_says_the_flag_is_refused_and_names_its_file_variable() {
        String help = ServeCommand.commandLine().getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", "");
        assertThat(help).contains("refusedhere(psshowsflags):setthevariableorCHAT_JWT_SECRET_FILE");
    }
}
