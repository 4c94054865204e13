package org.moescope.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.moescope.model.ModelFile;
import org.moescope.probe.trace.TraceStore;
import org.moescope.probe.trace.Tracer;
import org.moescope.runtime.TextModel;
import org.moescope.study.Studies;
import org.moescope.study.StudyContext;
import org.moescope.testkit.SharedFiles;

/**
 * Spark local mode (local[2], up to 4 attempts per task) against the single-process code: the
 * distributed trace equals {@code moescope trace} row for row, also when a task's first attempt
 * dies half-way; refusal-experts and wsd computed from Spark's routing equal the same studies run
 * in one process.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SparkCollectTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;
    private SparkSession spark;
    private Path model;

    @BeforeAll
    void start() {
        model = SharedFiles.require("models/mini-moe/mini-moe-q8_0.gguf");
        spark = SparkSession.builder().master("local[2,4]").appName("moescope-test").config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4").getOrCreate();
    }

    @AfterAll
    void stop() throws Exception {
        if (spark != null) spark.close();
    }

    @Test
    void distributedTraceEqualsSingleProcessTraceEvenAfterALostTask() throws Exception {
        Path prompts = dir.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (String l : Files.readAllLines(SharedFiles.require("data/refusal-dev.jsonl"))) {
            if (texts.size() == 24) break;
            String p = JSON.readTree(l).get("prompt").asText();
            texts.add(p);
            lines.add(l);
        }
        Files.write(prompts, lines, StandardCharsets.UTF_8);
        Path out = dir.resolve("spark-trace");
        long n = Collect.run(spark, prompts.toString(), out.toString(),
                Collect.Options.trace(model.toString()).withChat(true).withGenerate(4).withLabel("harmful").withPartitions(3).failingFirstAttempt());
        assertThat(n).isEqualTo(24);
        assertThat(Collect.INJECTED_FAILURES.get()).as("a task attempt died and was retried").isEqualTo(1);
        assertThat(ExecutorModels.opened()).as("one model in this (executor) JVM").isEqualTo(1);

        // the single-process trace: the same Tracer 'moescope trace' runs, into a DuckDB store
        Path db = dir.resolve("local.duckdb");
        try (ModelFile file = ModelFile.open(model); TraceStore store = TraceStore.open(db)) {
            Tracer tracer = new Tracer(TextModel.open(file), null, java.util.Set.of(), true, 4);
            int run = store.beginRun(model.toString(), "{}", "");
            for (int seq = 0; seq < texts.size(); seq++) {
                Tracer.Sequence t = tracer.trace(texts.get(seq));
                store.writeSequence(run, seq, t.tokens(), t.pieces(), t.promptLength(), t.routes(), t.captures());
            }
        }
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
            s.execute("ATTACH '" + db + "' AS local (READ_ONLY)");
            String routing = "read_parquet('" + out + "/routing/**/*.parquet', hive_partitioning = true)";
            String tokens = "read_parquet('" + out + "/tokens/*.parquet')";
            String rc = "seq, pos, layer, rank, expert, weight, logit", tc = "seq, pos, token, piece, phase";
            assertThat(count(s, "SELECT count(*) FROM " + routing)).isEqualTo(count(s, "SELECT count(*) FROM local.routing")).isPositive();
            assertThat(count(s, "SELECT count(*) FROM (SELECT " + rc + " FROM " + routing + " EXCEPT ALL SELECT " + rc + " FROM local.routing)")).isZero();
            assertThat(count(s, "SELECT count(*) FROM (SELECT " + rc + " FROM local.routing EXCEPT ALL SELECT " + rc + " FROM " + routing + ")")).isZero();
            assertThat(count(s, "SELECT count(*) FROM (SELECT " + tc + " FROM " + tokens + " EXCEPT ALL SELECT " + tc + " FROM local.tokens)")).isZero();
            assertThat(count(s, "SELECT count(*) FROM " + tokens)).isEqualTo(count(s, "SELECT count(*) FROM local.tokens"));
            // no duplicates after the retried task
            assertThat(count(s, "SELECT count(*) FROM (SELECT seq, pos, layer, rank FROM " + routing + " GROUP BY ALL HAVING count(*) > 1)")).isZero();
            // the aggregates agree with the rows they summarise
            assertThat(count(s, "SELECT sum(selections) FROM read_parquet('" + out + "/aggregates/expert_load/*.parquet')"))
                    .isEqualTo(count(s, "SELECT count(*) FROM local.routing"));
            assertThat(count(s, "SELECT sum(n) FROM read_parquet('" + out + "/aggregates/expert_counts/*.parquet') WHERE label = 'true' AND tokens = 'decision'"))
                    .isEqualTo(count(s, "SELECT count(*) FROM local.routing r JOIN (SELECT seq, count(*) FILTER (phase = 'prompt') AS np FROM local.tokens GROUP BY seq) t "
                            + "USING (seq) WHERE r.pos >= t.np - 3 AND r.pos < t.np AND r.seq IN (" + harmfulSeqs(lines) + ")"));
        }
    }

    @Test
    void refusalAndWsdFromSparkRoutingEqualTheSingleProcessStudies() throws Exception {
        Path refusal = slice("refusal-dev.jsonl", 8, r -> r.get("harmful").asBoolean(), r -> !r.get("harmful").asBoolean());
        Path arith = slice("arith-dev.jsonl", 6, r -> true);
        compareStudy("refusal-experts", refusal, Map.of("k", "2", "random_seeds", "1", "arith", arith.toString(), "arith_n", "4", "tokens", "8"));
        compareStudy("wsd", slice("wsd-dev.jsonl", 60, r -> true), Map.of());
    }

    private void compareStudy(String name, Path data, Map<String, String> options) throws Exception {
        Path local = dir.resolve(name + "-local"), viaSpark = dir.resolve(name + "-spark");
        try (ModelFile file = ModelFile.open(model)) {
            TextModel text = TextModel.open(file);
            Studies.byName(name).orElseThrow().run(new StudyContext(text, data, local, null, 1, new LinkedHashMap<>(options)));
            // the Spark path: collect routing on the executors, then the study reads it
            Path input = dir.resolve(name + "-collection.jsonl");
            List<String> prompts = name.equals("wsd") ? org.moescope.study.studies.WordSense.collectionPrompts(data, options)
                    : org.moescope.study.studies.RefusalExperts.collectionPrompts(data, options);
            List<String> lines = new ArrayList<>();
            for (String p : new java.util.LinkedHashSet<>(prompts)) lines.add(JSON.createObjectNode().put("prompt", p).toString());
            Files.write(input, lines, StandardCharsets.UTF_8);
            Path routing = viaSpark.resolve("routing");
            Collect.run(spark, input.toString(), routing.toString(),
                    Collect.Options.trace(model.toString()).withMode(Collect.Mode.ROUTING).withChat(name.equals("refusal-experts")).withPartitions(2));
            Map<String, String> withRouting = new LinkedHashMap<>(options);
            withRouting.put("routing", routing.toString());
            Studies.byName(name).orElseThrow().run(new StudyContext(text, data, viaSpark, null, 1, withRouting));
        }
        JsonNode a = JSON.readTree(local.resolve("summary.json").toFile()), b = JSON.readTree(viaSpark.resolve("summary.json").toFile());
        for (String part : new String[] {"figures", "controls", "tables", "profiles"}) {
            assertThat(b.get(part)).as(name + " " + part + " from Spark routing").isEqualTo(a.get(part));
        }
        assertThat(a.get("figures").size()).isPositive();
    }

    private static String harmfulSeqs(List<String> lines) throws Exception {
        List<String> seqs = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) if (JSON.readTree(lines.get(i)).get("harmful").asBoolean()) seqs.add(String.valueOf(i));
        return String.join(",", seqs);
    }

    private static long count(Statement s, String sql) throws Exception {
        try (ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    @SafeVarargs
    private Path slice(String name, int perGroup, java.util.function.Predicate<JsonNode>... groups) throws Exception {
        List<String> out = new ArrayList<>();
        int[] taken = new int[groups.length];
        for (String line : Files.readAllLines(SharedFiles.require("data/" + name), StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode row = JSON.readTree(line);
            for (int g = 0; g < groups.length; g++) {
                if (taken[g] < perGroup && groups[g].test(row)) {
                    taken[g]++;
                    out.add(line);
                    break;
                }
            }
        }
        Path target = dir.resolve("slice-" + name);
        Files.write(target, out, StandardCharsets.UTF_8);
        return target;
    }

}
