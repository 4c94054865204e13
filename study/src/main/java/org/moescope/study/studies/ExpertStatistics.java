package org.moescope.study.studies;

import java.util.List;

import org.moescope.model.config.ModelConfig;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;
import org.moescope.runtime.TextModel;

/**
 * Observational statistics of every (layer, expert) over calibration texts: selection frequency,
 * mean routing weight when selected, EASY-EP's gate-weighted output norm summed over all tokens
 * (Lu et al. 2024), REAP's router-weighted activation norm averaged over routed tokens (Lasby et
 * al. 2025), and the largest |activation| of the expert's output with its channel (super experts,
 * Su et al. 2025).
 */
final class ExpertStatistics implements Hooks {
    final double[][] count, weightSum, weightedNormSum, maxActivation;
    final int[][] maxChannel;
    long tokens;
    private final float[][] pendingWeights; // per layer: [batch, experts] weights of the current batch
    private int[] rows = new int[0];
    private int rowCount;
    private final int experts;

    ExpertStatistics(ModelConfig config) {
        int l = config.layerCount();
        experts = config.moe().experts();
        count = new double[l][experts];
        weightSum = new double[l][experts];
        weightedNormSum = new double[l][experts];
        maxActivation = new double[l][experts];
        maxChannel = new int[l][experts];
        pendingWeights = new float[l][];
    }

    void run(TextModel model, List<String> texts) {
        var t = model.transformer();
        for (String text : texts) {
            int[] ids = model.encodePrompt(text);
            if (ids.length == 0) continue;
            tokens += ids.length;
            t.forward(t.newState(ids.length, ids.length), new Batch().set(ids, 0, ids.length, 0, Batch.Phase.PROMPT), this,
                    new float[model.file().config().vocabularySize()], false);
        }
    }

    @Override
    public boolean active(HookPoint.Kind kind, int layer) {
        return kind == HookPoint.Kind.ROUTER_TOPK || kind == HookPoint.Kind.EXPERT_OUT;
    }

    @Override
    public void routed(int layer, Batch batch, int[] chosen, float[] weights, int k) {
        float[] w = new float[batch.size() * experts];
        for (int t = 0; t < batch.size(); t++) {
            for (int r = 0; r < k; r++) {
                int e = chosen[t * k + r];
                if (e < 0) continue;
                w[t * experts + e] = weights[t * k + r];
                count[layer][e]++;
                weightSum[layer][e] += weights[t * k + r];
            }
        }
        pendingWeights[layer] = w;
    }

    @Override
    public void expertRows(int layer, int expert, int[] rows, int count) {
        this.rows = rows;
        this.rowCount = count;
    }

    @Override
    public void at(HookPoint point, Batch batch, float[] values, int offset, int width) {
        if (point.kind() != HookPoint.Kind.EXPERT_OUT) return;
        int l = point.layer(), e = point.expert();
        for (int r = 0; r < rowCount; r++) {
            double norm = 0;
            for (int i = 0; i < width; i++) {
                float v = values[offset + r * width + i];
                norm += (double) v * v;
                if (Math.abs(v) > maxActivation[l][e]) {
                    maxActivation[l][e] = Math.abs(v);
                    maxChannel[l][e] = i;
                }
            }
            float w = pendingWeights[l][rows[r] * experts + e];
            weightedNormSum[l][e] += w * Math.sqrt(norm);
        }
    }

    double frequency(int l, int e) { return count[l][e] / tokens; }

    double meanWeight(int l, int e) { return count[l][e] == 0 ? 0 : weightSum[l][e] / count[l][e]; }

    double easyEp(int l, int e) { return weightedNormSum[l][e] / tokens; }

    double reap(int l, int e) { return count[l][e] == 0 ? 0 : weightedNormSum[l][e] / count[l][e]; }
}
