package org.moescope.model.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.model.ModelFile;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;
import org.moescope.tensor.Workers;

/**
 * Decoding runs the active experts in row chunks shared out between the threads; with a listener on
 * {@code experts.{e}.out} they run one whole expert after another. Both give the same logits, bit
 * for bit: which thread computes a row, and in which order, changes nothing.
 */
class ExpertSchedulingTest {
    /** Listens at every expert's output and changes nothing: it only sends the block down the whole-expert path. */
    private static final Hooks EXPERT_LISTENER = SharedDecodeTest.listenerAt(HookPoint.Kind.EXPERT_OUT);

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.moescope.model.forward.SharedDecodeTest#models")
    void chunkedExpertsEqualWholeExperts(String relative) {
        withMoeModel(relative, (model, vocab) -> {
            int[] prompt = new Random(3).ints(9, 0, vocab).toArray();
            State chunked = model.newState(16, 32), whole = model.newState(16, 32);
            float[] chunkedLogits = new float[vocab], wholeLogits = new float[vocab];
            Batch batch = new Batch();
            model.forward(chunked, batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), Hooks.NONE, chunkedLogits, false);
            model.forward(whole, batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), Hooks.NONE, wholeLogits, false);
            int[] next = new int[1];
            for (int step = 0; step < 6; step++) {
                next[0] = SharedDecodeTest.argmax(chunkedLogits);
                model.forward(chunked, batch.set(next, 0, 1, chunked.position(), Batch.Phase.GENERATED), Hooks.NONE, chunkedLogits, false);
                model.forward(whole, batch.set(next, 0, 1, whole.position(), Batch.Phase.GENERATED), EXPERT_LISTENER, wholeLogits, false);
                assertThat(chunkedLogits).as("step %d", step).isEqualTo(wholeLogits);
            }
        });
    }

    /**
     * A prompt's experts run side by side, dealt out largest first ({@link MoeBlock#balance}), and
     * its tokens are routed and combined on all threads: the logits of every position are those of
     * the whole-expert path, where the experts run one after another on the calling thread.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.moescope.model.forward.SharedDecodeTest#models")
    void promptExpertsSideBySideEqualWholeExperts(String relative) {
        withMoeModel(relative, (model, vocab) -> {
            int[] prompt = new Random(5).ints(40, 0, vocab).toArray();
            float[] sideBySide = new float[prompt.length * vocab], whole = new float[prompt.length * vocab];
            Batch batch = new Batch();
            model.forward(model.newState(40, 48), batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), Hooks.NONE, sideBySide, true);
            model.forward(model.newState(40, 48), batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), EXPERT_LISTENER, whole, true);
            assertThat(sideBySide).isEqualTo(whole);
        });
    }

    private interface ModelCheck {
        void run(Transformer model, int vocab);
    }

    /** Runs the check on a fixture model with experts, where there are several threads to split them among. */
    private static void withMoeModel(String relative, ModelCheck check) {
        Assumptions.assumeTrue(Workers.shared().threads() > 1, "one worker thread: experts are never split between threads");
        Path path = SharedDecodeTest.model(relative);
        try (ModelFile file = ModelFile.open(path)) {
            Transformer model = Transformer.of(file);
            Assumptions.assumeTrue(model.config().isMoe(), relative + " has no experts");
            check.run(model, file.config().vocabularySize());
        }
    }

    @org.junit.jupiter.api.Test
    void balanceDealsLargestFirstIntoEvenRuns() {
        int[] count = {4, 28, 1, 2, 12, 91, 0, 90, 125, 5, 29, 120};
        int[] active = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11};
        int n = active.length;
        int[] order = new int[n], sorted = new int[n];
        MoeBlock.balance(active, n, count, order, sorted, new int[2], new long[2]);
        assertThat(order).containsExactlyInAnyOrder(active);
        int half = n / 2;
        long first = 0, second = 0;
        for (int a = 0; a < n; a++) {
            if (a < half) first += count[order[a]];
            else second += count[order[a]];
            if (a != 0 && a != half) assertThat(count[order[a]]).as("position %d", a).isLessThanOrEqualTo(count[order[a - 1]]);
        }
        assertThat(Math.abs(first - second)).as("token rows %d and %d", first, second).isLessThanOrEqualTo(5);
    }
}
