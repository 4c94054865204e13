package org.moescope.cli;

/** The --threads setting, applied to the compute pool before a model runs. */
final class Threads {
    private static int count = Runtime.getRuntime().availableProcessors();

    private Threads() {}

    static void configure(Integer requested) {
        if (requested == null) return;
        if (requested < 1) throw new UserException("--threads must be at least 1");
        count = requested;
        System.setProperty("moescope.threads", Integer.toString(requested));
    }

    static int count() { return count; }
}
