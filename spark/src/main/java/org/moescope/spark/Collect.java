package org.moescope.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.spark.HashPartitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.moescope.probe.profile.Profile;
import org.moescope.probe.trace.TraceRecorder;
import org.moescope.probe.trace.Tracer;
import org.moescope.runtime.RoutingRecorder;
import org.moescope.runtime.TextModel;
import org.moescope.study.eval.Evaluator;
import scala.Tuple2;

/**
 * The distributed collection stage. Prompts (JSON lines or Parquet with a text field) are numbered
 * in input order, hash-partitioned by number across executors, and run there with one model per
 * executor JVM. Output, as Parquet under OUT:
 * <pre>
 *   prompts/            seq, prompt, chat, record (the input line)
 *   tokens/             seq, pos, token, piece, phase
 *   routing/layer=L/    seq, pos, rank, expert, weight, logit
 *   aggregates/expert_load/     layer, expert, selections, top1, weight_sum
 *   aggregates/coactivation/    layer, expert_a, expert_b, tokens      (a &lt; b, selected together)
 *   aggregates/expert_counts/   label, tokens, layer, expert, n        (the numerators of fTRI and nPMI)
 *   aggregates/token_counts/    label, tokens, n                       (their denominators)
 *   _moescope.json      how it was collected
 * </pre>
 * {@code tokens} in the counts is the token class: prompt, decision (the last 3 prompt tokens, where
 * the model decides how to answer), generated; {@code label} is the record's {@code --label} field.
 * A partition's rows depend only on its prompts, so a retried task writes the same rows, and
 * Spark's output commit keeps exactly one attempt: no duplicates.
 */
public final class Collect {
    /** TRACE: what {@code moescope trace} stores (generation, the last prompt token run alone); ROUTING: a study's prompt routing (one forward pass over the prompt). */
    public enum Mode { TRACE, ROUTING }

    public record Options(String model, Mode mode, boolean chat, int generate, String field, String label, int partitions, String profileJson,
                          boolean failFirstAttempt) implements Serializable {
        public static Options trace(String model) { return new Options(model, Mode.TRACE, false, 0, "prompt", null, 0, null, false); }

        public Options withMode(Mode m) { return new Options(model, m, chat, generate, field, label, partitions, profileJson, failFirstAttempt); }

        public Options withChat(boolean c) { return new Options(model, mode, c, generate, field, label, partitions, profileJson, failFirstAttempt); }

        public Options withGenerate(int n) { return new Options(model, mode, chat, n, field, label, partitions, profileJson, failFirstAttempt); }

        public Options withField(String f) { return new Options(model, mode, chat, generate, f, label, partitions, profileJson, failFirstAttempt); }

        public Options withLabel(String l) { return new Options(model, mode, chat, generate, field, l, partitions, profileJson, failFirstAttempt); }

        public Options withPartitions(int p) { return new Options(model, mode, chat, generate, field, label, p, profileJson, failFirstAttempt); }

        public Options withProfile(String json) { return new Options(model, mode, chat, generate, field, label, partitions, json, failFirstAttempt); }

        /** For tests: the first attempt of partition 0 dies half-way, as a lost executor would. */
        public Options failingFirstAttempt() { return new Options(model, mode, chat, generate, field, label, partitions, profileJson, true); }
    }

    /** One prompt's results, shipped from executors as plain arrays. */
    public record Traced(long seq, String prompt, String record, int[] tokens, String[] pieces, int promptLength,
                         int[] position, int[] layer, int[] rank, int[] expert, float[] weight, float[] logit) implements Serializable {}

    private static final StructType PROMPTS = new StructType().add("seq", DataTypes.LongType).add("prompt", DataTypes.StringType)
            .add("chat", DataTypes.BooleanType).add("record", DataTypes.StringType);
    private static final StructType TOKENS = new StructType().add("seq", DataTypes.LongType).add("pos", DataTypes.IntegerType)
            .add("token", DataTypes.IntegerType).add("piece", DataTypes.StringType).add("phase", DataTypes.StringType);
    private static final StructType ROUTING = new StructType().add("seq", DataTypes.LongType).add("pos", DataTypes.IntegerType)
            .add("layer", DataTypes.IntegerType).add("rank", DataTypes.IntegerType).add("expert", DataTypes.IntegerType)
            .add("weight", DataTypes.FloatType).add("logit", DataTypes.FloatType);

    /** Failures injected by {@link Options#failingFirstAttempt} in this JVM (tests check the retry really happened). */
    static final java.util.concurrent.atomic.AtomicInteger INJECTED_FAILURES = new java.util.concurrent.atomic.AtomicInteger();

    private Collect() {}

    /** Runs the stage over {@code input} (a JSONL file or a Parquet folder/file) into {@code out}; returns the number of prompts. */
    public static long run(SparkSession spark, String input, String out, Options o) {
        JavaPairRDD<Long, String> lines = numberedRecords(spark, input, o.field());
        int partitions = o.partitions() > 0 ? o.partitions() : spark.sparkContext().defaultParallelism();
        JavaRDD<Traced> traced = lines.partitionBy(new HashPartitioner(partitions))
                .mapPartitions(it -> runPartition(it, o))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            JavaRDD<Row> promptRows = traced.map(t -> RowFactory.create(t.seq(), t.prompt(), o.chat(), t.record()));
            JavaRDD<Row> tokenRows = traced.flatMap(t -> {
                List<Row> rows = new ArrayList<>(t.tokens().length);
                for (int i = 0; i < t.tokens().length; i++) {
                    rows.add(RowFactory.create(t.seq(), i, t.tokens()[i], t.pieces()[i], i < t.promptLength() ? "prompt" : "generated"));
                }
                return rows.iterator();
            });
            JavaRDD<Row> routingRows = traced.flatMap(t -> {
                List<Row> rows = new ArrayList<>(t.position().length);
                for (int i = 0; i < t.position().length; i++) {
                    rows.add(RowFactory.create(t.seq(), t.position()[i], t.layer()[i], t.rank()[i], t.expert()[i], t.weight()[i], t.logit()[i]));
                }
                return rows.iterator();
            });
            Dataset<Row> prompts = spark.createDataFrame(promptRows, PROMPTS);
            Dataset<Row> tokens = spark.createDataFrame(tokenRows, TOKENS);
            Dataset<Row> routing = spark.createDataFrame(routingRows, ROUTING);
            prompts.write().mode(SaveMode.Overwrite).parquet(out + "/prompts");
            tokens.write().mode(SaveMode.Overwrite).parquet(out + "/tokens");
            routing.write().mode(SaveMode.Overwrite).partitionBy("layer").parquet(out + "/routing");
            aggregates(spark, out, o);
            long count = prompts.count();
            writeMeta(out, input, o, count, partitions);
            return count;
        } finally {
            traced.unpersist(false);
        }
    }

    /** Input records numbered in input order (the number is the sequence id in every output table). */
    private static JavaPairRDD<Long, String> numberedRecords(SparkSession spark, String input, String field) {
        JavaRDD<String> records;
        if (input.endsWith(".parquet") || Files.isDirectory(Path.of(input))) {
            records = spark.read().parquet(input).toJSON().javaRDD();
        } else {
            records = spark.read().textFile(input).javaRDD().filter(l -> !l.isBlank());
        }
        return records.zipWithIndex().mapToPair(t -> new Tuple2<>(t._2(), t._1()));
    }

    private static Iterator<Traced> runPartition(Iterator<Tuple2<Long, String>> input, Options o) {
        List<Tuple2<Long, String>> items = new ArrayList<>();
        input.forEachRemaining(items::add);
        items.sort((a, b) -> Long.compare(a._1(), b._1())); // the same order on every attempt
        TextModel model = ExecutorModels.get(o.model());
        ObjectMapper json = new ObjectMapper();
        Tracer tracer = o.mode() == Mode.TRACE
                ? new Tracer(model, o.profileJson() == null ? null : Profile.parse(o.profileJson(), null), java.util.Set.of(), o.chat(), o.generate())
                : null;
        Evaluator evaluator = new Evaluator(model);
        TaskContext task = TaskContext.get();
        List<Traced> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            if (o.failFirstAttempt() && task != null && task.partitionId() == 0 && task.attemptNumber() == 0 && i == items.size() / 2) {
                INJECTED_FAILURES.incrementAndGet();
                throw new IllegalStateException("injected failure: first attempt of partition 0 (a lost executor)");
            }
            long seq = items.get(i)._1();
            String record = items.get(i)._2();
            String prompt = promptOf(json, record, o.field(), seq);
            out.add(tracer != null ? fromTrace(seq, prompt, record, tracer.trace(prompt))
                    : fromRouting(seq, prompt, record, model, evaluator.promptRouting(prompt, o.chat(), null)));
        }
        return out.iterator();
    }

    private static String promptOf(ObjectMapper json, String record, String field, long seq) {
        JsonNode n;
        try {
            n = json.readTree(record);
        } catch (IOException e) {
            throw new IllegalArgumentException("record " + seq + " is not JSON: " + e.getMessage());
        }
        for (String f : new String[] {field, "prompt", "text", "sentence"}) {
            if (f != null && n.path(f).isTextual()) return n.get(f).asText();
        }
        throw new IllegalArgumentException("record " + seq + " has no text field '" + field + "'");
    }

    private static Traced fromTrace(long seq, String prompt, String record, Tracer.Sequence s) {
        int n = s.routes().size();
        int[] pos = new int[n], layer = new int[n], rank = new int[n], expert = new int[n];
        float[] weight = new float[n], logit = new float[n];
        for (int i = 0; i < n; i++) {
            TraceRecorder.Route r = s.routes().get(i);
            pos[i] = r.position();
            layer[i] = r.layer();
            rank[i] = r.rank();
            expert[i] = r.expert();
            weight[i] = r.weight();
            logit[i] = r.logit();
        }
        return new Traced(seq, prompt, record, s.tokens(), s.pieces(), s.promptLength(), pos, layer, rank, expert, weight, logit);
    }

    private static Traced fromRouting(long seq, String prompt, String record, TextModel model, List<RoutingRecorder.TokenRouting> routing) {
        int n = 0;
        for (var t : routing) for (int[] e : t.experts()) if (e != null) n += e.length;
        int[] pos = new int[n], layer = new int[n], rank = new int[n], expert = new int[n];
        float[] weight = new float[n], logit = new float[n];
        int k = 0;
        int[] tokens = new int[routing.size()];
        String[] pieces = new String[routing.size()];
        for (int p = 0; p < routing.size(); p++) {
            var t = routing.get(p);
            tokens[p] = t.token();
            pieces[p] = model.tokenizer().piece(t.token());
            for (int l = 0; l < t.experts().length; l++) {
                if (t.experts()[l] == null) continue;
                for (int r = 0; r < t.experts()[l].length; r++, k++) {
                    pos[k] = p;
                    layer[k] = l;
                    rank[k] = r;
                    expert[k] = t.experts()[l][r];
                    weight[k] = t.weights()[l][r];
                    logit[k] = Float.NaN; // a study's routing keeps the chosen experts and weights, not the logits
                }
            }
        }
        return new Traced(seq, prompt, record, tokens, pieces, routing.size(), pos, layer, rank, expert, weight, logit);
    }

    /** Per-expert aggregates through Spark SQL, from the Parquet just written. */
    private static void aggregates(SparkSession spark, String out, Options o) {
        spark.read().parquet(out + "/routing").createOrReplaceTempView("routing");
        spark.read().parquet(out + "/tokens").createOrReplaceTempView("tokens");
        spark.read().parquet(out + "/prompts").createOrReplaceTempView("prompts");
        spark.sql("SELECT layer, expert, count(*) AS selections, sum(CASE WHEN rank = 0 THEN 1 ELSE 0 END) AS top1, sum(weight) AS weight_sum "
                + "FROM routing GROUP BY layer, expert").write().mode(SaveMode.Overwrite).parquet(out + "/aggregates/expert_load");
        spark.sql("SELECT a.layer, a.expert AS expert_a, b.expert AS expert_b, count(*) AS tokens FROM routing a JOIN routing b "
                + "ON a.seq = b.seq AND a.pos = b.pos AND a.layer = b.layer AND a.expert < b.expert GROUP BY a.layer, a.expert, b.expert")
                .write().mode(SaveMode.Overwrite).parquet(out + "/aggregates/coactivation");
        String label = o.label() == null ? "CAST(NULL AS STRING)" : "get_json_object(p.record, '$." + o.label().replaceAll("[^A-Za-z0-9_]", "") + "')";
        spark.sql("SELECT t.seq, t.pos, " + label + " AS label, CASE WHEN t.phase = 'generated' THEN 'generated' "
                + "WHEN t.pos >= l.prompt_tokens - 3 THEN 'decision' ELSE 'prompt' END AS tokens FROM tokens t JOIN prompts p ON p.seq = t.seq "
                + "JOIN (SELECT seq, sum(CASE WHEN phase = 'prompt' THEN 1 ELSE 0 END) AS prompt_tokens FROM tokens GROUP BY seq) l ON l.seq = t.seq")
                .createOrReplaceTempView("token_classes");
        spark.sql("SELECT c.label, c.tokens, r.layer, r.expert, count(*) AS n FROM routing r JOIN token_classes c ON c.seq = r.seq AND c.pos = r.pos "
                + "GROUP BY c.label, c.tokens, r.layer, r.expert").write().mode(SaveMode.Overwrite).parquet(out + "/aggregates/expert_counts");
        spark.sql("SELECT label, tokens, count(*) AS n FROM token_classes GROUP BY label, tokens")
                .write().mode(SaveMode.Overwrite).parquet(out + "/aggregates/token_counts");
    }

    private static void writeMeta(String out, String input, Options o, long prompts, int partitions) {
        ObjectNode meta = new ObjectMapper().createObjectNode().put("input", input).put("model", o.model()).put("mode", o.mode().name().toLowerCase())
                .put("chat", o.chat()).put("generate", o.generate()).put("prompts", prompts).put("partitions", partitions);
        if (o.label() != null) meta.put("label", o.label());
        if (o.profileJson() != null) meta.put("profile", o.profileJson());
        try {
            Path target = Path.of(out, "_moescope.json");
            if (Files.isDirectory(Path.of(out))) Files.writeString(target, meta.toPrettyString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
