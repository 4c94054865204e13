package org.moescope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.tensor.Matrix;

/**
 * A small Q8_0 model keeps its block scales as floats (Matrix.withScaleTables), which only decode's
 * eight-row kernel reads: every logit of a prompt and of 24 decoded tokens has the same bits with
 * the tables as without them.
 */
class ScaleTableTest {
    @Test
    void decodeWithScaleTablesIsBitIdentical() {
        try (ModelFile file = ModelFile.open(EmbeddedModel.path())) {
            Transformer with = Transformer.of(file);
            Transformer without;
            System.setProperty("moescope.scaleTables", "false");
            try {
                without = Transformer.of(file);
            } finally {
                System.clearProperty("moescope.scaleTables");
            }
            // the tables serve the 16-lane kernels only
            assertThat(with.keepsScaleTables()).as("micro-moe with tables").isEqualTo(Matrix.tokenLanesAvailable());
            assertThat(without.keepsScaleTables()).as("tables turned off").isFalse();
            int[] ids = {3, 141, 59, 265, 358, 979, 323, 846};
            Session a = new Session(with, 64, 16), b = new Session(without, 64, 16);
            a.feed(ids, Batch.Phase.PROMPT);
            b.feed(ids, Batch.Phase.PROMPT);
            for (int step = 0; step < 24; step++) {
                assertThat(a.logits()).as("step %d", step).isEqualTo(b.logits());
                int next = argmax(a.logits());
                a.feed(new int[] {next}, Batch.Phase.GENERATED);
                b.feed(new int[] {next}, Batch.Phase.GENERATED);
            }
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
