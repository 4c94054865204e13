package org.moescope.model.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.model.ModelFile;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.Hooks;
import org.moescope.tensor.Workers;

/**
 * Attention's (token, head) pairs split across the threads give the logits, bit for bit, that one
 * thread gives, and prefill's four tokens at a time give what one token at a time gives: prefill
 * and decoding, every architecture's attention (sliding windows, sinks, QK-norm; latent attention
 * runs on one thread either way).
 */
class AttentionSchedulingTest {
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.moescope.model.forward.SharedDecodeTest#models")
    void threadsChangeNoBit(String relative) {
        Assumptions.assumeTrue(Workers.shared().threads() > 1, "one worker thread: attention is never split");
        Path path = SharedDecodeTest.model(relative);
        long threshold = GroupedQueryAttention.parallelWork;
        try (ModelFile file = ModelFile.open(path)) {
            Transformer model = Transformer.of(file);
            float[][] serial = run(model, Long.MAX_VALUE), split = run(model, 0);
            for (int step = 0; step < serial.length; step++) assertThat(split[step]).as("pass %d", step).isEqualTo(serial[step]);
        } finally {
            GroupedQueryAttention.parallelWork = threshold;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.moescope.model.forward.SharedDecodeTest#models")
    void fourTokensAtATimeChangeNoBit(String relative) {
        Path path = SharedDecodeTest.model(relative);
        long threshold = GroupedQueryAttention.parallelWork;
        try (ModelFile file = ModelFile.open(path)) {
            Transformer model = Transformer.of(file);
            GroupedQueryAttention.quads = false;
            float[][] one = run(model, Long.MAX_VALUE);
            GroupedQueryAttention.quads = true;
            float[][] four = run(model, Long.MAX_VALUE);
            for (int step = 0; step < one.length; step++) assertThat(four[step]).as("pass %d", step).isEqualTo(one[step]);
        } finally {
            GroupedQueryAttention.parallelWork = threshold;
            GroupedQueryAttention.quads = true;
        }
    }

    /** The logits of a 40-token prompt and of 4 decoded tokens, with attention split above {@code threshold} multiply-adds. */
    private static float[][] run(Transformer model, long threshold) {
        GroupedQueryAttention.parallelWork = threshold;
        int vocab = model.config().vocabularySize();
        int[] prompt = new Random(5).ints(40, 0, vocab).toArray();
        State state = model.newState(64, 64);
        float[][] logits = new float[5][vocab];
        Batch batch = new Batch();
        model.forward(state, batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), Hooks.NONE, logits[0], false);
        int[] next = new int[1];
        for (int step = 1; step < logits.length; step++) {
            next[0] = SharedDecodeTest.argmax(logits[step - 1]);
            model.forward(state, batch.set(next, 0, 1, state.position(), Batch.Phase.GENERATED), Hooks.NONE, logits[step], false);
        }
        return logits;
    }
}
