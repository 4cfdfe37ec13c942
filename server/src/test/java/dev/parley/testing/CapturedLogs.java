package dev.parley.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.UnsynchronizedAppenderBase;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A Logback appender that keeps the formatted lines of the run in memory, for printing when a test fails. */
public final class CapturedLogs extends UnsynchronizedAppenderBase<ILoggingEvent> {
    private static final int MAX_LINES = 20_000;
    private static final List<String> LINES = new ArrayList<>();
    private Encoder<ILoggingEvent> encoder;

    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    @Override
    protected void append(ILoggingEvent event) {
        String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
        synchronized (LINES) {
            if (LINES.size() >= MAX_LINES) LINES.subList(0, MAX_LINES / 2).clear();
            LINES.add(line);
        }
    }

    /** A mark to read from later. */
    public static int mark() {
        synchronized (LINES) {
            return LINES.size();
        }
    }

    public static List<String> since(int mark) {
        synchronized (LINES) {
            return new ArrayList<>(LINES.subList(Math.min(mark, LINES.size()), LINES.size()));
        }
    }

    public static String all() {
        synchronized (LINES) {
            return String.join("", LINES);
        }
    }
}
