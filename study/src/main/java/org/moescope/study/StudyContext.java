package org.moescope.study;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.moescope.runtime.TextModel;
import org.moescope.study.eval.Evaluator;

/**
 * What a study runs on: the model, its data file, the output folder, an optional trace store, a
 * seed, and study-specific options ({@code --set key=value}).
 */
public record StudyContext(TextModel model, Path data, Path out, Path database, long seed, Map<String, String> options) {
    public Evaluator evaluator() { return new Evaluator(model); }

    /**
     * Where routing observations come from: the model run here, or, with {@code --set routing=DIR},
     * the Parquet folder a Spark collection wrote (the same rows, so the same figures).
     */
    public RoutingSource routing() {
        String folder = options.get("routing");
        return folder == null ? RoutingSource.live(evaluator()) : RoutingSource.parquet(Path.of(folder), model.file().config().layerCount());
    }

    public int option(String name, int fallback) {
        String v = options.get(name);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--set " + name + "=" + v + ": not an integer");
        }
    }

    public double option(String name, double fallback) {
        String v = options.get(name);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--set " + name + "=" + v + ": not a number");
        }
    }

    public String option(String name, String fallback) { return options.getOrDefault(name, fallback); }

    public Path output(String file) {
        try {
            Files.createDirectories(out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create " + out, e);
        }
        return out.resolve(file);
    }
}
