package org.moescope.model.forward;

import org.moescope.model.config.AttentionConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.hook.Batch;
import org.moescope.model.weights.ModelWeights;
import org.moescope.tensor.Workers;

/**
 * Grouped-query attention (Ainslie et al. 2023; MHA and MQA as cases): q/k/v projections with
 * optional biases, optional QK-norm (per head or over the whole projection, before RoPE), RoPE,
 * causal softmax attention with an optional sliding window and attention sinks, output projection.
 */
final class GroupedQueryAttention implements Attention {
    private final int layer;
    private final AttentionConfig config;
    private final Linear q, k, v, output;
    private final Linear[] qkv;
    private final RmsNorm qNorm, kNorm;
    private final float[] sinks;
    private final Rope rope;
    private final int window;

    GroupedQueryAttention(int layer, ModelConfig model, ModelWeights.Attention w, Rope rope, Numerics numerics) {
        this.layer = layer;
        this.config = model.attention();
        this.q = new Linear(w.q(), w.qBias(), numerics);
        this.k = new Linear(w.k(), w.kBias(), numerics);
        this.v = new Linear(w.v(), w.vBias(), numerics);
        this.output = new Linear(w.output(), w.outputBias(), numerics);
        this.qkv = new Linear[] {q, k, v};
        this.qNorm = w.qNorm() == null ? null : new RmsNorm(w.qNorm(), model.normEpsilon());
        this.kNorm = w.kNorm() == null ? null : new RmsNorm(w.kNorm(), model.normEpsilon());
        this.sinks = w.sinks() == null ? null : Dequantize.all(w.sinks());
        this.rope = rope;
        this.window = config.isSliding(layer) ? config.slidingWindow() : 0;
    }

    @Override
    public int[] cacheWidths() { return new int[] {config.keyWidth(), config.valueWidth()}; }

    @Override
    public void forward(State s, Batch batch, float[] in, float[] out) {
        int n = batch.size();
        int heads = config.heads();
        int headDim = config.headDim();
        int valueDim = config.valueHeadDim();
        // new keys and values are computed, normalised and rotated here, then stored in the cache
        Linear.applyTogether(in, n, qkv, s.queryKeyValue);
        if (TokenJobs.split(n)) Workers.shared().parallelFor("q/k norm + rope", n, (from, to, worker) -> normAndRotate(s, batch, from, to));
        else normAndRotate(s, batch, 0, n);
        s.store(layer, batch, s.newKeys, config.keyWidth(), s.newValues, config.valueWidth());
        // every (token, head) pair on its own, or (four tokens, head) where there are several tokens:
        // split across the threads when there is enough of it
        long work = 0;
        for (int t = 0; t < n; t++) work += (long) positions(s, batch, t) * heads * (headDim + valueDim);
        int tokensPerUnit = quads && n >= 4 ? 4 : 1, units = (n + tokensPerUnit - 1) / tokensPerUnit * heads;
        Workers workers = Workers.shared();
        if (work < parallelWork || workers.threads() == 1) {
            for (int unit = 0; unit < units; unit++) attendUnit(s, batch, tokensPerUnit, unit, 0);
        } else {
            Pairs task = s.attentionTask;
            task.attention = this;
            task.batch = batch;
            task.tokensPerUnit = tokensPerUnit;
            try {
                workers.parallelFor("attention", units, Math.min(units, 16 * workers.threads()), task);
            } finally {
                task.attention = null;
                task.batch = null;
            }
        }
        output.apply(s.attended, out, n);
    }

    /** QK-norm and RoPE of tokens [from, to)'s queries and new keys, in place. */
    private void normAndRotate(State s, Batch batch, int from, int to) {
        int heads = config.heads(), kvHeads = config.keyValueHeads(), headDim = config.headDim();
        float[] qs = s.query, newKeys = s.newKeys;
        for (int t = from; t < to; t++) {
            int qo = t * config.queryWidth();
            int ko = t * config.keyWidth();
            switch (config.qkNorm()) {
                case NONE -> {}
                case PER_HEAD -> {
                    qNorm.applyStrided(qs, qo, headDim, heads);
                    kNorm.applyStrided(newKeys, ko, headDim, kvHeads);
                }
                case WHOLE -> {
                    qNorm.apply(qs, qo, qs, qo, 1);
                    kNorm.apply(newKeys, ko, newKeys, ko, 1);
                }
            }
            int position = s.positionOf(batch, t);
            rope.apply(qs, qo, headDim, heads, position);
            rope.apply(newKeys, ko, headDim, kvHeads, position);
        }
    }

    /**
     * The parallel task of {@link #forward}'s (token, head) pairs, one per State and reused: a lambda
     * capturing its arguments would be allocated for every layer of every token once decoding is
     * past ~64 positions.
     */
    static final class Pairs implements Workers.RangeTask {
        private final State s;
        GroupedQueryAttention attention;
        Batch batch;
        int tokensPerUnit;

        Pairs(State s) { this.s = s; }

        @Override
        public void run(int from, int to, int worker) {
            for (int unit = from; unit < to; unit++) attention.attendUnit(s, batch, tokensPerUnit, unit, worker);
        }
    }

    /** Whether several tokens' attention goes four tokens at a time ({@link #attendQuad}); tests turn it off to compare. */
    static boolean quads = true;

    /** Below this many multiply-adds attention runs on the calling thread (decoding a short context); tests move it to force either way. */
    static long parallelWork = 1 << 18;

    private int firstPosition(int position) { return window > 0 ? Math.max(0, position - window + 1) : 0; }

    /** How many cached positions token t attends to. */
    private int positions(State s, Batch batch, int t) {
        int position = s.positionOf(batch, t);
        return position - firstPosition(position) + 1;
    }

    /** Unit u of {@link #forward}'s attention: head u % heads of the tokensPerUnit tokens from (u / heads)·tokensPerUnit. */
    private void attendUnit(State s, Batch batch, int tokensPerUnit, int unit, int worker) {
        int heads = config.heads(), h = unit % heads, t0 = unit / heads * tokensPerUnit, t1 = Math.min(batch.size(), t0 + tokensPerUnit);
        if (t1 - t0 == 4 && attendQuad(s, batch, t0, h, worker)) return;
        for (int t = t0; t < t1; t++) attend(s, batch, t, h, worker);
    }

    /**
     * Head h of tokens t0 .. t0 + 3 at once, where they are consecutive positions of one sequence
     * with a float32 cache and see the same first position (else false, and nothing done): each
     * cached key and value is loaded once for the four ({@link VectorMath#scaledDots4},
     * {@link VectorMath#weightedSum4}). Every output has the bits {@link #attend} gives it.
     */
    private boolean attendQuad(State s, Batch batch, int t0, int h, int worker) {
        KvCache cache = s.cacheOf(t0);
        int position = s.positionOf(batch, t0);
        for (int i = 1; i < 4; i++) if (s.cacheOf(t0 + i) != cache || s.positionOf(batch, t0 + i) != position + i) return false;
        float[] keys = cache.keys(layer), values = cache.values(layer);
        int first = firstPosition(position);
        if (keys == null || firstPosition(position + 3) != first) return false;
        int heads = config.heads(), headDim = config.headDim(), valueDim = config.valueHeadDim();
        int qWidth = config.queryWidth(), kWidth = config.keyWidth(), vWidth = config.valueWidth();
        int kvHead = h / (heads / config.keyValueHeads());
        float[] scores = s.quadScores[worker];
        int cap = scores.length / 4, count = position - first + 1;
        VectorMath.scaledDots4(s.query, t0 * qWidth + h * headDim, qWidth, keys, KvCache.AT + first * kWidth + kvHead * headDim, kWidth, headDim, count + 3,
                (float) config.scale(), scores, cap);
        for (int i = 0; i < 4; i++) Attention.softmax(scores, i * cap, count + i, sinks == null ? 0 : sinks[h], sinks != null);
        VectorMath.weightedSum4(scores, cap, count, values, KvCache.AT + first * vWidth + kvHead * valueDim, vWidth, valueDim, s.attended,
                t0 * heads * valueDim + h * valueDim, heads * valueDim);
        return true;
    }

    /** Head h of token t: its scores against the cached keys, softmax, the weighted values into s.attended; worker's scratch. */
    private void attend(State s, Batch batch, int t, int h, int worker) {
        int heads = config.heads(), headDim = config.headDim(), valueDim = config.valueHeadDim();
        int qWidth = config.queryWidth(), kWidth = config.keyWidth(), vWidth = config.valueWidth();
        int kvHead = h / (heads / config.keyValueHeads());
        float scale = (float) config.scale();
        float[] scores = s.workerScores[worker], row = s.workerCacheRow[worker], qs = s.query, attended = s.attended;
        KvCache cache = s.cacheOf(t);
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        boolean half = keys == null;
        int position = s.positionOf(batch, t);
        int first = firstPosition(position);
        int count = position - first + 1;
        int qo = t * qWidth + h * headDim;
        int ao = t * heads * valueDim + h * valueDim;
        if (!half) {
            VectorMath.scaledDots(qs, qo, keys, KvCache.AT + first * kWidth + kvHead * headDim, kWidth, headDim, count, scale, scores);
            Attention.softmax(scores, count, sinks == null ? 0 : sinks[h], sinks != null);
            VectorMath.weightedSum(scores, count, values, KvCache.AT + first * vWidth + kvHead * valueDim, vWidth, valueDim, attended, ao);
            return;
        }
        for (int j = 0; j < count; j++) { // an f16 cache's row is widened into row first
            cache.loadKey(layer, first + j, kvHead * headDim, headDim, row);
            scores[j] = VectorMath.dot(qs, qo, row, 0, headDim) * scale;
        }
        Attention.softmax(scores, count, sinks == null ? 0 : sinks[h], sinks != null);
        java.util.Arrays.fill(attended, ao, ao + valueDim, 0f);
        for (int j = 0; j < count; j++) {
            cache.loadValue(layer, first + j, kvHead * valueDim, valueDim, row);
            VectorMath.axpy(scores[j], row, 0, attended, ao, valueDim);
        }
    }
}
