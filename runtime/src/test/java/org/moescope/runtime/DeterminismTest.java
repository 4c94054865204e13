package org.moescope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.moescope.model.ModelFile;
import org.moescope.model.hook.Batch;

/**
 * The same prompt gives bit-identical logits every time in one process: on the first, cold pass
 * (interpreted kernels) as after the JIT has compiled them, and whatever ran before. Vector lane
 * sums used to follow the JIT's order once compiled and the interpreter's before.
 */
class DeterminismTest {
    @Test
    void logitsAreBitIdenticalFromTheFirstPassOn() {
        try (ModelFile file = ModelFile.open(EmbeddedModel.path())) {
            TextModel model = TextModel.open(file);
            List<float[]> first = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 40; i++) {
                    int[] ids = model.encodePrompt("Question " + i + ": what is " + i + " + " + (3 * i) + "? Explain.");
                    Session s = new Session(model.transformer(), 128, 64);
                    s.feed(ids, Batch.Phase.PROMPT);
                    float[] logits = s.logits().clone();
                    if (round == 0) first.add(logits);
                    else assertThat(logits).as("round %d, prompt %d", round, i).isEqualTo(first.get(i));
                }
            }
        }
    }
}
