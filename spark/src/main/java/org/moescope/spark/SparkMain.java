package org.moescope.spark;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.sql.SparkSession;
import org.moescope.model.ModelFile;
import org.moescope.runtime.TextModel;
import org.moescope.study.Studies;
import org.moescope.study.Study;
import org.moescope.study.StudyContext;
import org.moescope.study.studies.RefusalExperts;
import org.moescope.study.studies.WordSense;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code moescope spark trace|collect|study ...}: moescope's collection stages on Apache Spark.
 * Locally: {@code bin/moescope spark trace --master local[2] ...}; on a cluster:
 * {@code spark-submit --class org.moescope.spark.SparkMain moescope-spark.jar trace ...} with the
 * model on storage every executor can read (docs/SCALE-OUT.md).
 */
@Command(name = "moescope spark", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
        description = "Trace collection and study collection stages on Apache Spark (one model per executor JVM, Parquet out).",
        subcommands = {SparkMain.Trace.class, SparkMain.CollectCommand.class, SparkMain.StudyCommand.class})
public final class SparkMain {
    public static void main(String[] args) {
        System.exit(new CommandLine(new SparkMain()).setExecutionExceptionHandler((e, cli, parsed) -> {
            if (e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException) {
                cli.getErr().println("moescope spark: " + e.getMessage());
                return 2;
            }
            throw e;
        }).execute(args));
    }

    static class SparkOptions {
        @Option(names = "--master", paramLabel = "URL", description = "Spark master, e.g. local[2] (default: what spark-submit set)") String master;

        @Option(names = "--partitions", defaultValue = "0", description = "prompt partitions (default: Spark's default parallelism)") int partitions;

        SparkSession session() {
            SparkSession.Builder b = SparkSession.builder().appName("moescope");
            if (master != null) b = b.master(master).config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4");
            SparkSession session = b.getOrCreate();
            if (master != null) session.sparkContext().setLogLevel("WARN");
            return session;
        }
    }

    @Command(name = "collect", description = {"Run prompts on the executors and write tokens, routing (by layer), prompts and per-expert",
            "aggregates as Parquet under --out."})
    static class CollectCommand implements Callable<Integer> {
        @CommandLine.Mixin SparkOptions spark = new SparkOptions();

        @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "a model path every executor can read") String model;

        @Option(names = {"-f", "--file"}, required = true, paramLabel = "INPUT", description = "prompts: JSON lines or Parquet") String input;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder (replaced)") String out;

        @Option(names = "--mode", defaultValue = "trace", description = "trace (what 'moescope trace' stores) or routing (a study's prompt routing)") String mode;

        @Option(names = "--chat", description = "wrap each prompt as a user message with the chat template") boolean chat;

        @Option(names = "--generate", defaultValue = "0", description = "also generate N tokens per prompt (greedy; trace mode)") int generate;

        @Option(names = "--field", defaultValue = "prompt", description = "the record's text field (default ${DEFAULT-VALUE}; then text, sentence)") String field;

        @Option(names = "--label", description = "a record field to count experts by (e.g. harmful): fTRI and nPMI numerators") String label;

        @Option(names = "--profile", paramLabel = "P.json", description = "apply a profile (trace mode)") Path profile;

        @Override
        public Integer call() throws Exception {
            Collect.Mode m = switch (mode) {
                case "trace" -> Collect.Mode.TRACE;
                case "routing" -> Collect.Mode.ROUTING;
                default -> throw new IllegalArgumentException("--mode must be trace or routing, not " + mode);
            };
            String profileJson = profile == null ? null : Files.readString(profile);
            Collect.Options o = Collect.Options.trace(model).withMode(m).withChat(chat).withGenerate(generate).withField(field).withLabel(label)
                    .withPartitions(spark.partitions).withProfile(profileJson);
            long start = System.nanoTime();
            try (SparkSession session = spark.session()) {
                long n = Collect.run(session, input, out, o);
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("moescope spark: %d prompts collected into %s in %.1f s (%.1f prompts/s)%n", n, out, seconds, n / seconds);
            }
            return 0;
        }
    }

    @Command(name = "trace", description = "collect in trace mode: the rows 'moescope trace' would store, as Parquet")
    static class Trace extends CollectCommand {}

    @Command(name = "study", description = {"Run a study with its routing collected on Spark: refusal-experts or wsd. The collection",
            "goes to DIR/routing; the study reads it (--set routing=...) and writes DIR/summary.json and report.html."})
    static class StudyCommand implements Callable<Integer> {
        @CommandLine.Mixin SparkOptions spark = new SparkOptions();

        @Parameters(index = "0", paramLabel = "NAME", description = "refusal-experts or wsd") String name;

        @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL") String model;

        @Option(names = "--data", required = true, paramLabel = "FILE.jsonl") Path data;

        @Option(names = "--out", required = true, paramLabel = "DIR") Path out;

        @Option(names = "--set", paramLabel = "NAME=VALUE", description = "a study option (repeatable)") Map<String, String> options = new LinkedHashMap<>();

        @Option(names = "--seed", defaultValue = "1") long seed;

        @Override
        public Integer call() throws Exception {
            Study study = Studies.byName(name).orElseThrow(() -> new IllegalArgumentException("no study named " + name));
            List<String> prompts;
            boolean chat;
            switch (name) {
                case "refusal-experts" -> {
                    prompts = RefusalExperts.collectionPrompts(data, options);
                    chat = true;
                }
                case "wsd" -> {
                    prompts = WordSense.collectionPrompts(data, options);
                    chat = false;
                }
                default -> throw new IllegalArgumentException("spark study runs refusal-experts or wsd, not " + name);
            }
            Files.createDirectories(out);
            Path input = out.resolve("collection-prompts.jsonl");
            ObjectMapper json = new ObjectMapper();
            List<String> lines = new ArrayList<>();
            for (String p : new LinkedHashSet<>(prompts)) lines.add(json.createObjectNode().put("prompt", p).toString());
            Files.write(input, lines, StandardCharsets.UTF_8);
            Path routing = out.resolve("routing");
            try (SparkSession session = spark.session()) {
                Collect.run(session, input.toString(), routing.toString(), Collect.Options.trace(model).withMode(Collect.Mode.ROUTING).withChat(chat)
                        .withPartitions(spark.partitions));
            }
            Map<String, String> withRouting = new LinkedHashMap<>(options);
            withRouting.put("routing", routing.toString());
            try (ModelFile file = ModelFile.open(Path.of(model))) {
                study.run(new StudyContext(TextModel.open(file), data, out, null, seed, withRouting));
            }
            System.out.println("moescope spark: wrote " + out.resolve("summary.json") + " and " + out.resolve("report.html"));
            return 0;
        }
    }
}
