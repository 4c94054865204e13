package org.moescope.study;

import java.io.PrintStream;

/** A progress bar on stderr for long jobs; quiet when stderr is not a terminal-like stream. */
public final class Progress implements AutoCloseable {
    private final PrintStream err = System.err;
    private final String label;
    private final long total;
    private final String unit;
    private final long started = System.nanoTime();
    private long lastPrint;
    private int lastPercent = -1;
    private static final boolean TERMINAL = System.console() != null;

    public Progress(String label, long total, String unit) {
        this.label = label;
        this.total = Math.max(1, total);
        this.unit = unit;
    }

    public void update(long done) {
        int percent = (int) Math.min(100, done * 100 / total);
        long now = System.nanoTime();
        if (percent == lastPercent && now - lastPrint < 500_000_000L) return;
        if (!TERMINAL) {
            // logs and CI: a line every 10%, not a redrawn bar
            if (percent / 10 == lastPercent / 10 && lastPercent >= 0) return;
            lastPercent = percent;
            lastPrint = now;
            err.printf("%s: %d%% (%d/%d %s)%n", label, percent, done, total, unit);
            return;
        }
        lastPercent = percent;
        lastPrint = now;
        int width = 30;
        int filled = percent * width / 100;
        double seconds = (now - started) / 1e9;
        String eta = done > 0 && done < total ? String.format(" eta %.0fs", seconds * (total - done) / done) : "";
        String count = unit.equals("B") ? format(done) + "/" + format(total) : done + "/" + total + (unit.isEmpty() ? "" : " " + unit);
        err.printf("\r%s [%s%s] %3d%% %s%s   ", label, "#".repeat(filled), " ".repeat(width - filled), percent, count, eta);
        err.flush();
    }

    private String format(long n) {
        if (unit.equals("B")) {
            if (n >= 1L << 30) return String.format("%.2f GiB", n / (double) (1L << 30));
            if (n >= 1L << 20) return String.format("%.1f MiB", n / (double) (1L << 20));
            return n + " B";
        }
        return n + (unit.isEmpty() ? "" : " " + unit);
    }

    @Override
    public void close() {
        update(total);
        if (TERMINAL) err.printf("%n");
    }
}
