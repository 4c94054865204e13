package org.moescope.model.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.model.ModelFile;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.Hooks;
import org.moescope.testkit.SharedFiles;

/**
 * Several sequences decoded in one pass ({@link Transformer#decodeTogether}) get exactly the logits,
 * bit for bit, that decoding each alone gives: every architecture (GQA, MLA, sliding windows, sinks,
 * shared experts, dense layers) and a quantized model.
 */
class SharedDecodeTest {
    static Stream<String> models() {
        List<String> out = new ArrayList<>();
        for (String arch : ArchitectureGoldenTest.ARCHITECTURES) out.add("fixtures/arch/" + arch + "/model-f32.gguf");
        out.add("models/mini-moe/mini-moe-q8_0.gguf");
        out.add("models/mini-moe/mini-moe-Q4_K_M.gguf");
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void sharedPassEqualsSeparatePasses(String relative) {
        Path path = model(relative);
        try (ModelFile file = ModelFile.open(path)) {
            Transformer model = Transformer.of(file);
            int vocab = file.config().vocabularySize();
            int[] promptLengths = {3, 11, 20, 7};
            int sequences = promptLengths.length, steps = 5, context = 40;
            Random random = new Random(7);
            State[] alone = new State[sequences], together = new State[sequences];
            float[][] aloneLogits = new float[sequences][vocab], togetherLogits = new float[sequences][vocab];
            int[] next = new int[sequences];
            Batch batch = new Batch();
            for (int i = 0; i < sequences; i++) {
                int[] prompt = random.ints(promptLengths[i], 0, vocab).toArray();
                alone[i] = model.newState(32, context);
                together[i] = model.newState(32, context);
                model.forward(alone[i], batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), Hooks.NONE, aloneLogits[i], false);
                model.forward(together[i], batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), Hooks.NONE, togetherLogits[i], false);
                next[i] = argmax(aloneLogits[i]);
            }
            for (int step = 0; step < steps; step++) {
                for (int i = 0; i < sequences; i++) {
                    model.forward(alone[i], batch.set(next, i, 1, alone[i].position(), Batch.Phase.GENERATED), Hooks.NONE, aloneLogits[i], false);
                }
                model.decodeTogether(together, next.clone(), togetherLogits);
                for (int i = 0; i < sequences; i++) {
                    assertThat(togetherLogits[i]).as("sequence %d, step %d", i, step).isEqualTo(aloneLogits[i]);
                    assertThat(together[i].position()).isEqualTo(alone[i].position());
                    next[i] = argmax(aloneLogits[i]);
                }
            }
        }
    }

    /** Threads decoding at once share passes on their own, and still get the bits they get alone. */
    @Test
    void concurrentDecodersSharePasses() throws Exception {
        Path path = SharedFiles.require("models/mini-moe/mini-moe-q8_0.gguf");
        try (ModelFile file = ModelFile.open(path)) {
            Transformer model = Transformer.of(file);
            int threads = 4, steps = 24;
            int[][] alone = new int[threads][], concurrent = new int[threads][];
            for (int i = 0; i < threads; i++) alone[i] = greedy(model, i, steps, null);
            long passesBefore = model.sharedDecodePasses();
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Thread> running = new ArrayList<>();
            Throwable[] failure = new Throwable[1];
            for (int i = 0; i < threads; i++) {
                int seq = i;
                running.add(Thread.ofPlatform().start(() -> {
                    try {
                        concurrent[seq] = greedy(model, seq, steps, start);
                    } catch (Throwable t) {
                        failure[0] = t;
                    }
                }));
            }
            for (Thread t : running) t.join();
            assertThat(failure[0]).isNull();
            for (int i = 0; i < threads; i++) assertThat(concurrent[i]).as("sequence %d", i).isEqualTo(alone[i]);
            assertThat(model.sharedDecodePasses()).as("passes shared by several sequences").isGreaterThan(passesBefore);
        }
    }

    private static int[] greedy(Transformer model, int seed, int steps, CyclicBarrier start) throws Exception {
        int vocab = model.config().vocabularySize();
        int[] prompt = new Random(seed).ints(5 + seed, 0, vocab).toArray();
        State state = model.newState(16, 64);
        float[] logits = new float[vocab];
        Batch batch = new Batch();
        model.forward(state, batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), Hooks.NONE, logits, false);
        if (start != null) start.await();
        int[] out = new int[steps];
        for (int s = 0; s < steps; s++) {
            out[s] = argmax(logits);
            model.forward(state, batch.set(out, s, 1, state.position(), Batch.Phase.GENERATED), Hooks.NONE, logits, false);
        }
        return out;
    }

    /** The model file of {@link #models}, the test skipped when it is absent. */
    static Path model(String relative) {
        Path path = SharedFiles.require(relative);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(path), relative + " is absent");
        return path;
    }

    /**
     * Hooks that listen at every layer's {@code kind} point and change nothing: they only send the
     * pass down the path that such a listener takes, for comparing it with the plain one.
     */
    static Hooks listenerAt(org.moescope.model.hook.HookPoint.Kind kind) {
        return new Hooks() {
            @Override public boolean active(org.moescope.model.hook.HookPoint.Kind k, int layer) { return k == kind; }

            @Override public void at(org.moescope.model.hook.HookPoint point, Batch batch, float[] values, int offset, int width) {}
        };
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
