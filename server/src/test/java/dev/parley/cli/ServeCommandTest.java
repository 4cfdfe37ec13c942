package dev.parley.cli;

import dev.parley.config.Setting;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

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
}
