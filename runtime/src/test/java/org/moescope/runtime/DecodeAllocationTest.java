package org.moescope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.testkit.SharedFiles;

/**
 * Decoding allocates nothing per token once the JIT has compiled it, on any thread (the pool has
 * as many as there are cores: two on CI, so the parallel paths run): the parallel
 * jobs, their tasks, the shared-pass bookkeeping and the kernels all reuse what they need. Windows
 * of tokens are decoded until one allocates less than a byte per token (in at most
 * {@link #PATIENCE_NANOS}); before the work in this test's commit it was 7.9 KB per token.
 */
class DecodeAllocationTest {
    private static final long PATIENCE_NANOS = 60_000_000_000L;
    private static final int WINDOW = 64;

    @Test
    void compiledDecodingAllocatesNothingPerToken() throws Exception {
        Path file = SharedFiles.require("models/mini-moe/mini-moe-q8_0.gguf");
        try (ModelFile model = ModelFile.open(file)) {
            Transformer t = Transformer.of(model);
            int[] ids = new SplittableRandom(1).ints(WINDOW + 1, 0, model.config().vocabularySize()).toArray();
            Session s = new Session(t, WINDOW + 2, 1);
            long start = System.nanoTime(), bytes;
            do {
                s.rewind(0);
                long before = allThreads();
                for (int i = 0; i < WINDOW; i++) s.feed(ids, i, 1, Batch.Phase.GENERATED);
                long after = allThreads();
                // less what reading the counters allocates (the thread list): the same two reads around nothing
                bytes = after - before - measuring();
            } while (bytes >= WINDOW && System.nanoTime() - start < PATIENCE_NANOS);
            assertThat(bytes / (double) WINDOW).as("bytes allocated per decoded token, all threads").isLessThan(1);
        }
    }

    /** Bytes that one reading of {@link #allThreads} allocates, as counted by the next one (the least of a few). */
    private static long measuring() {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long a = allThreads();
            least = Math.min(least, allThreads() - a);
        }
        return least;
    }

    private static long allThreads() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : threads.getAllThreadIds()) sum += Math.max(0, threads.getThreadAllocatedBytes(id));
        return sum;
    }
}
