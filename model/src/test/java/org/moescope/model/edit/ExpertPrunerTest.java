package org.moescope.model.edit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;
import org.moescope.model.hook.RoutingRules;
import org.moescope.testkit.SharedFiles;

class ExpertPrunerTest {
    @TempDir Path dir;

    @Test
    void prunedFileEqualsTheModelWithThoseExpertsDisabled() throws Exception {
        Path source = SharedFiles.require("models/mini-moe/mini-moe-q8_0.gguf");
        int layers = 6, experts = 32;
        int[][] drop = new int[layers][];
        for (int l = 0; l < layers; l++) drop[l] = new int[] {l, (l * 7 + 3) % 32, 31 - l, 16};
        Path target = dir.resolve("pruned.gguf");
        ExpertPruner.prune(source, ExpertPruner.dropping(layers, experts, drop), target);
        assertThat(Files.size(target)).isLessThan(Files.size(source));

        int[] ids = {1, 326, 203, 464, 309, 1714, 414, 1282, 35, 2, 203, 1, 327, 203};
        float[] pruned, disabled;
        try (ModelFile m = ModelFile.open(target)) {
            assertThat(m.config().moe().experts()).isEqualTo(28);
            pruned = run(m, Hooks.NONE, ids);
        }
        try (ModelFile m = ModelFile.open(source)) {
            Hooks disable = new Hooks() {
                @Override public boolean active(HookPoint.Kind kind, int layer) { return false; }

                @Override public void at(HookPoint point, Batch batch, float[] values, int offset, int width) {}

                @Override public boolean routes(int layer) { return true; }

                @Override public RoutingRules routingRules(int layer, Batch batch, int t) {
                    boolean[] off = new boolean[experts];
                    for (int e : drop[layer]) off[e] = true;
                    return new RoutingRules(null, off, null, null, 0, 0, null);
                }
            };
            disabled = run(m, disable, ids);
        }
        double max = 0;
        for (int i = 0; i < pruned.length; i++) max = Math.max(max, Math.abs(pruned[i] - disabled[i]));
        // the same experts with the same weights; only the softmax's summation order differs
        assertThat(max).as("max |logit difference|").isLessThan(1e-4);
    }

    @Test
    void unequalExpertCountsAreRefused() {
        Path source = SharedFiles.require("models/mini-moe/mini-moe-q8_0.gguf");
        int[][] drop = new int[6][];
        drop[0] = new int[] {1};
        drop[1] = new int[] {1, 2};
        assertThatThrownBy(() -> ExpertPruner.prune(source, ExpertPruner.dropping(6, 32, drop), dir.resolve("x.gguf")))
                .hasMessageContaining("same number of experts");
    }

    private static float[] run(ModelFile m, Hooks hooks, int[] ids) {
        Transformer t = Transformer.of(m);
        float[] logits = new float[ids.length * m.config().vocabularySize()];
        t.forward(t.newState(ids.length, ids.length), new Batch().set(ids, 0, ids.length, 0, Batch.Phase.PROMPT), hooks, logits, true);
        return logits;
    }
}
