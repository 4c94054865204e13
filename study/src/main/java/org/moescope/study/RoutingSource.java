package org.moescope.study;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.moescope.runtime.RoutingRecorder;
import org.moescope.study.eval.Evaluator;

/**
 * Where a study's routing observations come from: the model, run here ({@link #live}), or routing
 * collected beforehand — by the Spark job, on many machines — and stored as Parquet
 * ({@link #parquet}). Both give the same rows for the same prompt, so a study's figures do not
 * depend on which it used.
 */
public interface RoutingSource {
    /** The routing of every prompt token, prompt rendered through the chat template when {@code chat}. */
    List<RoutingRecorder.TokenRouting> promptRouting(String prompt, boolean chat);

    static RoutingSource live(Evaluator evaluator) {
        return (prompt, chat) -> evaluator.promptRouting(prompt, chat, null);
    }

    /**
     * Routing read from a folder written by {@code moescope spark} in routing mode:
     * {@code prompts/} (seq, prompt, chat) and {@code routing/} (seq, pos, layer, rank, expert, weight), as Parquet.
     */
    static RoutingSource parquet(Path folder, int layers) {
        if (!Files.isDirectory(folder.resolve("prompts")) || !Files.isDirectory(folder.resolve("routing"))) {
            throw new IllegalArgumentException("routing folder " + folder + " has no prompts/ and routing/ Parquet data (write it with 'moescope spark collect')");
        }
        Map<String, Integer> seqOf = new HashMap<>();
        Map<Integer, List<RoutingRecorder.TokenRouting>> bySeq = new HashMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
            String prompts = folder.resolve("prompts").toAbsolutePath().toString().replace("'", "''");
            String routing = folder.resolve("routing").toAbsolutePath().toString().replace("'", "''");
            try (ResultSet r = s.executeQuery("SELECT seq, prompt, chat FROM read_parquet('" + prompts + "/**/*.parquet')")) {
                while (r.next()) seqOf.put(key(r.getString(2), r.getBoolean(3)), r.getInt(1));
            }
            try (ResultSet r = s.executeQuery("SELECT seq, pos, layer, rank, expert, weight FROM read_parquet('" + routing
                    + "/**/*.parquet', hive_partitioning = true) ORDER BY seq, pos, layer, rank")) {
                List<RoutingRecorder.TokenRouting> current = null;
                int currentSeq = -1;
                List<int[]> experts = new ArrayList<>();
                while (r.next()) {
                    int seq = r.getInt(1), pos = r.getInt(2), layer = r.getInt(3), expert = r.getInt(5);
                    float weight = r.getFloat(6);
                    if (seq != currentSeq) {
                        current = bySeq.computeIfAbsent(seq, k -> new ArrayList<>());
                        currentSeq = seq;
                    }
                    while (current.size() <= pos) current.add(new RoutingRecorder.TokenRouting(current.size(), -1, new int[layers][], new float[layers][]));
                    RoutingRecorder.TokenRouting t = current.get(pos);
                    int[] e = t.experts()[layer];
                    float[] w = t.weights()[layer];
                    int n = e == null ? 0 : e.length;
                    int[] e2 = e == null ? new int[1] : java.util.Arrays.copyOf(e, n + 1);
                    float[] w2 = w == null ? new float[1] : java.util.Arrays.copyOf(w, n + 1);
                    e2[n] = expert;
                    w2[n] = weight;
                    t.experts()[layer] = e2;
                    t.weights()[layer] = w2;
                }
            }
        } catch (SQLException e) {
            throw new IllegalArgumentException("cannot read routing from " + folder + ": " + e.getMessage(), e);
        }
        return (prompt, chat) -> {
            Integer seq = seqOf.get(key(prompt, chat));
            if (seq == null) {
                throw new IllegalArgumentException("the routing in " + folder + " has no " + (chat ? "chat " : "") + "prompt '" + prompt + "'");
            }
            return bySeq.getOrDefault(seq, List.of());
        };
    }

    private static String key(String prompt, boolean chat) { return (chat ? "c:" : "p:") + prompt; }
}
