package org.moescope.probe;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.probe.trace.TraceRecorder;
import org.moescope.probe.trace.TraceStore;
import org.moescope.probe.vector.SteeringVectors;
import org.moescope.testkit.SharedFiles;

class TraceStoreTest {
    @TempDir Path dir;

    @Test
    void aRunWritesEveryRoutingRowAndAnswersSqlAndExportsParquet() throws Exception {
        int[] ids = {1, 326, 203, 464, 309, 1714, 414, 1282, 35, 2, 203, 1, 327, 203};
        Path db = dir.resolve("traces.duckdb");
        try (ModelFile model = ModelFile.open(SharedFiles.require("models/mini-moe/mini-moe-q8_0.gguf")); TraceStore store = TraceStore.open(db)) {
            Transformer t = Transformer.of(model);
            TraceRecorder recorder = new TraceRecorder(true, Set.of(HookPoint.block(3, HookPoint.Kind.RESID_POST)), 6);
            int run = store.beginRun("mini-moe", "{}", "test");
            for (int seq = 0; seq < 2; seq++) {
                recorder.reset();
                t.forward(t.newState(ids.length, ids.length), new Batch().set(ids, 0, ids.length, 0, Batch.Phase.PROMPT), recorder,
                        new float[32768 * 0 + ids.length * 8192], true);
                String[] pieces = new String[ids.length];
                java.util.Arrays.fill(pieces, "x");
                store.writeSequence(run, seq, ids, pieces, ids.length, recorder.routes(), recorder.captures());
            }
            try (Statement s = store.connection().createStatement()) {
                ResultSet r = s.executeQuery("SELECT count(*) FROM routing");
                r.next();
                assertThat(r.getLong(1)).isEqualTo(2L * ids.length * 6 * 4); // sequences × tokens × layers × top-4
                r = s.executeQuery("SELECT expert, count(*) FROM routing WHERE layer=3 GROUP BY 1 ORDER BY 2 DESC");
                long total = 0;
                while (r.next()) total += r.getLong(2);
                assertThat(total).isEqualTo(2L * ids.length * 4);
                r = s.executeQuery("SELECT count(*), min(len(vals)) FROM captures WHERE point = 'blocks.3.resid_post'");
                r.next();
                assertThat(r.getLong(1)).isEqualTo(2L * ids.length);
                assertThat(r.getInt(2)).isEqualTo(256);
                r = s.executeQuery("SELECT sum(weight) FROM routing WHERE seq = 0 AND pos = 0 AND layer = 0");
                r.next();
                assertThat(r.getDouble(1)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5)); // renormalised top-4
            }
            assertThat(store.hasSequence(run, 1)).isTrue();
            assertThat(store.hasSequence(run, 2)).isFalse();
            store.exportParquet(dir.resolve("parquet"));
        }
        for (String table : new String[] {"runs", "tokens", "routing", "captures"}) assertThat(dir.resolve("parquet/" + table + ".parquet")).exists();
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
            ResultSet r = s.executeQuery("SELECT count(*) FROM read_parquet('" + dir.resolve("parquet/routing.parquet") + "')");
            r.next();
            assertThat(r.getLong(1)).isEqualTo(2L * ids.length * 6 * 4);
        }
    }

    @Test
    void controlVectorRoundTripsAndAHandMadeOneReads() throws Exception {
        Path file = dir.resolve("cv.gguf");
        SteeringVectors.writeControlVector(file, Map.of(1, new float[] {1, 2, 3}, 3, new float[] {4, 5, 6}), "qwen3moe", 6);
        var v = SteeringVectors.read("cv.gguf", dir);
        assertThat(v.forLayer(1)).containsExactly(1, 2, 3);
        assertThat(v.forLayer(3)).containsExactly(4, 5, 6);
        assertThat(v.forLayer(2)).isNull();
        // written by hand with the GGUF writer the way llama.cpp's tools write them
        new org.moescope.format.gguf.GgufWriter().put("general.architecture", org.moescope.format.gguf.GgufValue.of("controlvector"))
                .addTensor("direction.5", org.moescope.format.TensorType.F32, new long[] {2},
                        java.lang.foreign.MemorySegment.ofArray(new float[] {0.5f, -0.5f}))
                .write(dir.resolve("hand.gguf"));
        assertThat(SteeringVectors.read("hand.gguf", dir).forLayer(5)).containsExactly(0.5f, -0.5f);
        assertThat(Files.size(file)).isGreaterThan(0);
    }
}
