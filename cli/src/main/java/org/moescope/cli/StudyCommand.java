package org.moescope.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import org.moescope.model.ModelFile;
import org.moescope.runtime.TextModel;
import org.moescope.study.Studies;
import org.moescope.study.Study;
import org.moescope.study.StudyContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "study", description = {"Run a study: data in, statistics with 95%% intervals and a control, DIR/summary.json and DIR/report.html out.",
        "Studies: refusal-experts, cognitive-experts, wsd, vector-creativity (also: vector creativity), debias, importance, prune,",
        "consistency, super-experts, dynamic-routing. Study options: --set name=value (see docs/STUDIES.md)."})
final class StudyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "the study") String name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "SUBNAME", description = "second word of two-word names (vector creativity)") String second;

    @Mixin ModelOption model;

    @Option(names = "--data", required = true, paramLabel = "FILE.jsonl", description = "the data set") Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "where summary.json and report.html go") Path out;

    @Option(names = "--db", paramLabel = "traces.duckdb", description = "also keep the study's traces in this DuckDB file") Path db;

    @Option(names = "--seed", defaultValue = "1", description = "seed for sampling, shuffles and bootstraps (default ${DEFAULT-VALUE})") long seed;

    @Option(names = "--set", paramLabel = "NAME=VALUE", description = "a study option (repeatable)") Map<String, String> options = new LinkedHashMap<>();

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)") Integer threads;

    @Override
    public Integer call() {
        Threads.configure(threads);
        String full = second == null ? name : name + "-" + second;
        Study study = Studies.byName(full).orElseThrow(() -> new UserException("no study named '" + full + "' (known: "
                + String.join(", ", Studies.all().stream().map(Study::name).toList()) + ")"));
        if (!java.nio.file.Files.isRegularFile(data)) throw new UserException("--data: " + data + ": no such file");
        try (ModelFile file = ModelFile.open(model.resolve())) {
            TextModel text = TextModel.open(file);
            long start = System.nanoTime();
            try {
                study.run(new StudyContext(text, data, out, db, seed, options));
            } catch (IllegalArgumentException e) {
                throw new UserException(full + ": " + e.getMessage());
            }
            System.err.printf("%s: wrote %s and %s in %.0f s%n", full, out.resolve("summary.json"), out.resolve("report.html"),
                    (System.nanoTime() - start) / 1e9);
        }
        return 0;
    }
}
