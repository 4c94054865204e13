package org.moescope.model.forward;

import java.util.List;

import org.moescope.model.config.AttentionConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.hook.Batch;
import org.moescope.model.weights.ModelWeights;

/**
 * Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434) in its absorbed form, as llama.cpp
 * runs it: the cache holds one normalised latent c (kv_lora_rank) and one RoPE key per position;
 * each head's query is projected into the latent space by its key up-projection, attends over the
 * latents, and its value comes from the attended latent through the value up-projection.
 * Mathematically equal to HF's form that decompresses keys and values per head.
 */
final class LatentAttention implements Attention {
    private final int layer;
    private final AttentionConfig config;
    private final AttentionConfig.MlaConfig mla;
    private final Linear q, queryA, queryB, keyValueA, output;
    private final RmsNorm queryANorm, keyValueANorm;
    private final Linear[] keyUp, valueUp;
    private final Rope rope;

    LatentAttention(int layer, ModelConfig model, ModelWeights.Attention w, Rope rope, Numerics numerics) {
        this.layer = layer;
        this.config = model.attention();
        this.mla = config.mla();
        this.q = w.q() == null ? null : Linear.of(w.q(), numerics);
        this.queryA = w.queryA() == null ? null : Linear.of(w.queryA(), numerics);
        this.queryB = w.queryB() == null ? null : Linear.of(w.queryB(), numerics);
        this.queryANorm = w.queryANorm() == null ? null : new RmsNorm(w.queryANorm(), model.normEpsilon());
        this.keyValueA = Linear.of(w.keyValueA(), numerics);
        this.keyValueANorm = new RmsNorm(w.keyValueANorm(), model.normEpsilon());
        this.output = Linear.of(w.output(), numerics);
        this.keyUp = linears(w.keyUp(), numerics);
        this.valueUp = linears(w.valueUp(), numerics);
        this.rope = rope;
    }

    private static Linear[] linears(List<org.moescope.format.TensorData> ts, Numerics numerics) {
        return ts.stream().map(t -> Linear.of(t, numerics)).toArray(Linear[]::new);
    }

    @Override
    public int[] cacheWidths() { return new int[] {mla.kvLoraRank() + mla.ropeDim(), 0}; }

    @Override
    public void forward(State s, Batch batch, float[] in, float[] out) {
        int n = batch.size();
        int heads = config.heads();
        int qkDim = config.headDim();
        int nope = mla.nopeDim();
        int ropeDim = mla.ropeDim();
        int rank = mla.kvLoraRank();
        int valueDim = mla.valueDim();
        int latentWidth = rank + ropeDim;
        float[] qs = s.query;
        if (q != null) {
            q.apply(in, qs, n);
        } else {
            queryA.apply(in, s.latentQuery, n);
            queryANorm.apply(s.latentQuery, 0, s.latentQuery, 0, n);
            queryB.apply(s.latentQuery, qs, n);
        }
        float[] fresh = s.newKeys;
        keyValueA.apply(in, fresh, n);
        for (int t = 0; t < n; t++) {
            int at = t * latentWidth;
            keyValueANorm.apply(fresh, at, fresh, at, 1);
            int position = s.positionOf(batch, t);
            rope.apply(fresh, at + rank, ropeDim, 1, position);
            rope.apply(qs, t * heads * qkDim + nope, qkDim, heads, position);
        }
        s.store(layer, batch, fresh, latentWidth, null, 0);
        float scale = (float) config.scale();
        float[] scores = s.workerScores[0], row = s.workerCacheRow[0];
        float[] absorbed = s.absorbedQuery;
        float[] attendedLatent = s.attendedLatent;
        float[] attended = s.attended;
        for (int t = 0; t < n; t++) {
            KvCache cache = s.cacheOf(t);
            float[] latents = cache.keys(layer);
            boolean half = latents == null;
            int position = s.positionOf(batch, t);
            int count = position + 1;
            for (int h = 0; h < heads; h++) {
                int qo = t * heads * qkDim + h * qkDim;
                keyUp[h].apply(qs, qo, nope, absorbed, 0, rank, 1);
                for (int j = 0; j < count; j++) {
                    float[] lr = latents;
                    int lo = KvCache.AT + j * latentWidth;
                    if (half) {
                        cache.loadKey(layer, j, 0, latentWidth, row);
                        lr = row;
                        lo = 0;
                    }
                    float dot = VectorMath.dot(absorbed, 0, lr, lo, rank) + VectorMath.dot(qs, qo + nope, lr, lo + rank, ropeDim);
                    scores[j] = dot * scale;
                }
                Attention.softmax(scores, count, 0, false);
                java.util.Arrays.fill(attendedLatent, 0, rank, 0f);
                for (int j = 0; j < count; j++) {
                    float[] lr = latents;
                    int lo = KvCache.AT + j * latentWidth;
                    if (half) {
                        cache.loadKey(layer, j, 0, rank, row);
                        lr = row;
                        lo = 0;
                    }
                    VectorMath.axpy(scores[j], lr, lo, attendedLatent, 0, rank);
                }
                valueUp[h].apply(attendedLatent, 0, rank, attended, t * heads * valueDim + h * valueDim, valueDim, 1);
            }
        }
        output.apply(attended, out, n);
    }
}
