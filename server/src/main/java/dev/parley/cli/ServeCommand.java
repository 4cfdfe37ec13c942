package dev.parley.cli;

import dev.parley.ChatServer;
import dev.parley.config.ChatConfig;
import dev.parley.config.ConfigException;
import dev.parley.config.Setting;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code serve}: runs a node until SIGTERM or SIGINT, then drains it. Its flags are made from
 * {@link Setting}, so every flag has its environment variable and documented default. Secrets are
 * refused as flags (see {@link ChatConfig#refuseSecretFlags}): they come from the environment or a file.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run a chat node. Every flag can also be set with its CHAT_* environment variable; a flag wins.")
public final class ServeCommand implements Callable<Integer> {
    private CommandSpec spec;

    public static CommandLine commandLine() {
        ServeCommand command = new ServeCommand();
        CommandLine cl = new CommandLine(command);
        command.spec = cl.getCommandSpec();
        for (Setting s : Setting.values()) {
            command.spec.addOption(OptionSpec.builder(s.flag)
                    .paramLabel("<" + s.name().toLowerCase().replace('_', '-') + ">")
                    .type(String.class)
                    .description(s.description + (s.secret() ? "; refused here (ps shows flags): set the variable or " + s.fileEnv() : "")
                            + " [env " + s.env + (s.defaultValue.isEmpty() ? "" : ", default " + s.defaultValue) + "]")
                    .build());
        }
        return cl;
    }

    @Override
    public Integer call() throws Exception {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String v = spec.findOption(s.flag).getValue();
            if (v != null) flags.put(s, v);
        }
        Logger log = LoggerFactory.getLogger(ServeCommand.class);
        ChatConfig config;
        try {
            ChatConfig.refuseSecretFlags(flags);
            config = ChatConfig.load(System.getenv(), flags);
        } catch (ConfigException e) {
            System.err.println("Invalid configuration: " + e.getMessage());
            return 2;
        }
        log.info("configuration {}", config.describe());
        ChatServer server;
        try {
            server = ChatServer.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof ChatServer.StartFailure f) log.error("could not start: {}", f.getMessage());
            else log.error("could not start: {}", rootMessage(e), e);
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close().toCompletionStage().toCompletableFuture().get(config.drainTimeout().toSeconds() + 15, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("drain did not finish cleanly: {}", rootMessage(e));
            } finally {
                stopped.countDown();
            }
        }, "parley-shutdown"));
        stopped.await();
        return 0;
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) t = t.getCause();
        return t.getMessage();
    }
}
