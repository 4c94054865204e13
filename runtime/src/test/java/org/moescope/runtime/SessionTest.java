package org.moescope.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.testkit.SharedFiles;

class SessionTest {
    private static Transformer transformer(ModelFile f) { return Transformer.of(f); }

    @Test
    void tokenByTokenGivesTheSameLogitsAsOneFullPass() {
        Path file = SharedFiles.require("models/mini-moe/hf");
        int[] ids = {1, 326, 203, 464, 309, 1714, 414, 1282, 35, 2, 203, 1, 327, 203, 3, 203, 45};
        try (ModelFile model = ModelFile.open(file)) {
            Transformer t = transformer(model);
            int vocabulary = model.config().vocabularySize();
            float[] full = new float[ids.length * vocabulary];
            var state = t.newState(ids.length, ids.length);
            t.forward(state, new Batch().set(ids, 0, ids.length, 0, Batch.Phase.PROMPT), org.moescope.model.hook.Hooks.NONE, full, true);
            Session one = new Session(t, ids.length, 1);
            double max = 0;
            for (int i = 0; i < ids.length; i++) {
                one.feed(ids, i, 1, Batch.Phase.PROMPT);
                for (int v = 0; v < vocabulary; v++) max = Math.max(max, Math.abs(one.logits()[v] - full[i * vocabulary + v]));
            }
            // same arithmetic in a different batch shape: equal up to float rounding
            assertThat(max).as("max |logit difference| between cached decode and one full pass").isLessThan(1e-4);
        }
    }

    @Test
    void halfPrecisionCacheStaysCloseToFloat32() {
        Path file = SharedFiles.require("models/mini-moe/hf");
        int[] ids = {1, 326, 203, 464, 309, 1714, 414, 1282, 35, 2, 203, 1, 327, 203, 3, 203, 45, 403, 301, 571};
        try (ModelFile model = ModelFile.open(file)) {
            Transformer t = transformer(model);
            Session full = new Session(t, 64, 4, org.moescope.model.forward.KvCache.Precision.F32);
            Session half = new Session(t, 64, 4, org.moescope.model.forward.KvCache.Precision.F16);
            double max = 0;
            for (int i = 0; i < ids.length; i++) {
                full.feed(ids, i, 1, Batch.Phase.PROMPT);
                half.feed(ids, i, 1, Batch.Phase.PROMPT);
                for (int v = 0; v < model.config().vocabularySize(); v++) max = Math.max(max, Math.abs(full.logits()[v] - half.logits()[v]));
            }
            // f16 keeps 11 significant bits: keys/values move by ~5e-4 relative, logits by a few 1e-3
            assertThat(max).as("max |logit difference| f16 vs f32 cache").isGreaterThan(0).isLessThan(0.05);
        }
    }

    @Test
    void seededSamplingIsReproducibleAndGreedyMatchesArgmax() {
        Path file = SharedFiles.require("models/micro-moe/micro-moe-q8_0.gguf");
        try (ModelFile model = ModelFile.open(file)) {
            Transformer t = transformer(model);
            int[] prompt = {1, 326, 203, 464, 309, 1714, 414, 1282, 35, 2, 203, 1, 327, 203};
            List<List<Integer>> runs = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                Session s = new Session(t, 64, 16);
                s.feed(prompt, Batch.Phase.PROMPT);
                List<Integer> out = new ArrayList<>();
                s.generate(20, new Sampler(new SamplingOptions(0.9f, 40, 0.95f, 0.05f, 1.1f, 64, 42), model.config().vocabularySize()),
                        Set.of(), out::add);
                runs.add(out);
            }
            assertThat(runs.get(0)).hasSize(20).isEqualTo(runs.get(1));
        }
    }

    @Test
    void generationPastTheContextEndsCleanlyAndFeedingPastItFails() {
        Path file = SharedFiles.require("models/micro-moe/micro-moe-q8_0.gguf");
        try (ModelFile model = ModelFile.open(file)) {
            Session s = new Session(transformer(model), 8, 4);
            s.feed(new int[] {1, 2, 3, 4, 5, 6}, Batch.Phase.PROMPT);
            var result = s.generate(10, new Sampler(SamplingOptions.GREEDY, model.config().vocabularySize()), Set.of(), t -> true);
            assertThat(result.stop()).isEqualTo(GenerationResult.Stop.CONTEXT);
            assertThat(s.length()).isLessThanOrEqualTo(8);
            assertThatThrownBy(() -> s.feed(new int[] {1, 2, 3}, Batch.Phase.PROMPT)).isInstanceOf(Transformer.ContextFullException.class)
                    .hasMessageContaining("context holds 8");
        }
    }
}
