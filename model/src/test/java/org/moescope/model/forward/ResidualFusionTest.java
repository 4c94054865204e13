package org.moescope.model.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.model.ModelFile;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;

/**
 * Without hooks, a layer's last residual add and the next layer's attention norm run as one pass
 * over the tokens; a listener on {@code blocks.{l}.resid_post} keeps them apart. Both give the
 * same logits, bit for bit, for a prompt (every position) and for decoding after it.
 */
class ResidualFusionTest {
    /** Listens at every layer's resid_post and changes nothing. */
    private static final Hooks RESIDUAL_LISTENER = SharedDecodeTest.listenerAt(HookPoint.Kind.RESID_POST);

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.moescope.model.forward.SharedDecodeTest#models")
    void fusedResidualAddAndNormEqualTheStepsApart(String relative) {
        try (ModelFile file = ModelFile.open(SharedDecodeTest.model(relative))) {
            Transformer model = Transformer.of(file);
            int vocab = file.config().vocabularySize();
            int[] prompt = new Random(7).ints(24, 0, vocab).toArray();
            State fused = model.newState(24, 32), apart = model.newState(24, 32);
            float[] fusedLogits = new float[prompt.length * vocab], apartLogits = new float[prompt.length * vocab];
            Batch batch = new Batch();
            model.forward(fused, batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), Hooks.NONE, fusedLogits, true);
            model.forward(apart, batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), RESIDUAL_LISTENER, apartLogits, true);
            assertThat(fusedLogits).isEqualTo(apartLogits);
            int[] next = {SharedDecodeTest.argmax(java.util.Arrays.copyOfRange(fusedLogits, (prompt.length - 1) * vocab, prompt.length * vocab))};
            float[] fusedNext = new float[vocab], apartNext = new float[vocab];
            model.forward(fused, batch.set(next, 0, 1, fused.position(), Batch.Phase.GENERATED), Hooks.NONE, fusedNext, false);
            model.forward(apart, batch.set(next, 0, 1, apart.position(), Batch.Phase.GENERATED), RESIDUAL_LISTENER, apartNext, false);
            assertThat(fusedNext).isEqualTo(apartNext);
        }
    }
}
