package dev.parley;

import dev.parley.cli.ClientCommand;
import dev.parley.cli.ServeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command line: {@code serve} runs a node; {@code --help} lists the rest. */
@Command(name = "parley", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A real-time chat server: one jar on a laptop, or a cluster on PostgreSQL and Redis.")
public final class Main implements Runnable {

    public static void main(String[] args) {
        chooseLogFormat(args);
        CommandLine cli = new CommandLine(new Main());
        cli.addSubcommand("serve", ServeCommand.commandLine());
        cli.addSubcommand("client", new ClientCommand());
        System.exit(cli.execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Picks the Logback configuration before the first logger exists: text lines, or JSON lines. */
    private static void chooseLogFormat(String[] args) {
        String format = System.getenv().getOrDefault("CHAT_LOG_FORMAT", "text");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--log-format") && i + 1 < args.length) format = args[i + 1];
            else if (args[i].startsWith("--log-format=")) format = args[i].substring("--log-format=".length());
        }
        if (System.getProperty("logback.configurationFile") == null && format.trim().equalsIgnoreCase("json")) {
            System.setProperty("logback.configurationFile", "logback-json.xml");
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"parley " + (v == null ? "dev" : v)};
        }
    }
}
