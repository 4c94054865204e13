package org.moescope.model.forward;

import org.moescope.model.config.ModelConfig;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.HookPoint.Kind;
import org.moescope.model.hook.Hooks;
import org.moescope.model.weights.ModelWeights;

/**
 * The decoder: embeddings, then per layer pre-norm attention and pre-norm feed-forward (dense or
 * MoE) on the residual stream, then the final norm and the LM head. Every architecture runs
 * through this one path; their differences are in {@link ModelConfig}.
 */
public final class Transformer {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Layer[] layers;
    private final RmsNorm outputNorm;
    private final Linear output;
    private final int hidden;
    private final java.util.concurrent.locks.ReentrantLock passLock = new java.util.concurrent.locks.ReentrantLock(true);

    private record Layer(RmsNorm attentionNorm, Attention attention, RmsNorm ffnNorm, Mlp dense, MoeBlock moe) {}

    public Transformer(ModelConfig config, ModelWeights weights) {
        this(config, weights, Numerics.FLOAT32);
    }

    /** The model of a file, computing as its reference implementation does: llama.cpp for GGUF, transformers for HF folders. */
    public static Transformer of(org.moescope.model.ModelFile file) {
        return new Transformer(file.config(), file.weights(),
                file.format() == org.moescope.model.ModelFile.Format.GGUF ? Numerics.LLAMA_CPP : Numerics.FLOAT32);
    }

    public Transformer(ModelConfig config, ModelWeights weights, Numerics numerics) {
        this.config = config;
        this.weights = weights;
        this.hidden = config.hiddenSize();
        Rope rope = new Rope(config.rope());
        layers = new Layer[config.layerCount()];
        for (int l = 0; l < layers.length; l++) {
            var w = weights.layers().get(l);
            Attention attention = config.attention().isLatent()
                    ? new LatentAttention(l, config, w.attention(), rope, numerics)
                    : new GroupedQueryAttention(l, config, w.attention(), rope, numerics);
            Mlp dense = w.dense() == null ? null : new Mlp(w.dense(), new org.moescope.model.config.MoeConfig.SiluGlu(), numerics);
            MoeBlock moe = w.moe() == null ? null : new MoeBlock(l, config, w.moe(), numerics);
            layers[l] = new Layer(new RmsNorm(w.attentionNorm(), config.normEpsilon()), attention,
                    new RmsNorm(w.ffnNorm(), config.normEpsilon()), dense, moe);
        }
        outputNorm = new RmsNorm(weights.outputNorm(), config.normEpsilon());
        output = Linear.of(weights.output(), numerics);
    }

    public ModelConfig config() { return config; }

    public State newState(int maxBatch, int contextLength) {
        return newState(maxBatch, contextLength, KvCache.Precision.F32);
    }

    public State newState(int maxBatch, int contextLength, KvCache.Precision precision) {
        if (contextLength <= 0 || maxBatch <= 0) throw new IllegalArgumentException("batch and context must be positive");
        return new State(this, maxBatch, contextLength, precision);
    }

    int[] cacheWidths() { return layers[0].attention().cacheWidths(); }

    int expertWidth() {
        for (Layer l : layers) if (l.moe() != null) return l.moe().expertWidth();
        return 0;
    }

    int sharedWidth() {
        for (Layer l : layers) if (l.moe() != null) return l.moe().sharedWidth();
        return 0;
    }

    /**
     * Runs the batch's tokens at positions {@code state.position()...}, appending them to the
     * cache, and writes logits into {@code logits}: for every token ([n, vocab]) when
     * {@code allLogits}, else for the last one only ([vocab]).
     * Sessions on several threads may share one model: their passes take turns (each pass already
     * uses every core), so concurrent generations interleave token by token.
     */
    public void forward(State s, Batch batch, Hooks hooks, float[] logits, boolean allLogits) {
        passLock.lock();
        try {
            run(s, batch, hooks, logits, allLogits);
        } finally {
            passLock.unlock();
        }
    }

    private void run(State s, Batch batch, Hooks hooks, float[] logits, boolean allLogits) {
        int n = batch.size();
        if (n > s.maxBatch) throw new IllegalArgumentException("batch of " + n + " exceeds the state's " + s.maxBatch);
        if (batch.startPosition() != s.position()) throw new IllegalStateException("batch starts at " + batch.startPosition() + ", cache at " + s.position());
        if (s.position() + n > s.contextLength()) {
            throw new ContextFullException(s.position() + n, s.contextLength());
        }
        float[] x = s.residual;
        embed(batch, x);
        if (hooks.active(Kind.EMBED, -1)) hooks.at(HookPoint.embed(), batch, x, 0, hidden);
        var scales = config.scales();
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            if (hooks.active(Kind.RESID_PRE, l)) hooks.at(HookPoint.block(l, Kind.RESID_PRE), batch, x, 0, hidden);
            layer.attentionNorm().apply(x, 0, s.normed, 0, n);
            layer.attention().forward(s, batch, s.normed, s.branch);
            if (hooks.active(Kind.ATTN_OUT, l)) hooks.at(HookPoint.block(l, Kind.ATTN_OUT), batch, s.branch, 0, hidden);
            addScaled(x, s.branch, n * hidden, scales.residual());
            if (hooks.active(Kind.RESID_MID, l)) hooks.at(HookPoint.block(l, Kind.RESID_MID), batch, x, 0, hidden);
            layer.ffnNorm().apply(x, 0, s.normed, 0, n);
            if (layer.moe() != null) {
                layer.moe().forward(s, batch, s.normed, s.branch, hooks);
                if (hooks.active(Kind.MOE_OUT, l)) hooks.at(HookPoint.block(l, Kind.MOE_OUT), batch, s.branch, 0, hidden);
            } else {
                layer.dense().forward(s.normed, s.branch, n, s.denseGate, s.denseUp);
            }
            addScaled(x, s.branch, n * hidden, scales.residual());
            if (hooks.active(Kind.RESID_POST, l)) hooks.at(HookPoint.block(l, Kind.RESID_POST), batch, x, 0, hidden);
        }
        s.advance(n);
        int first = allLogits ? 0 : n - 1;
        int rows = n - first;
        outputNorm.apply(x, first * hidden, s.normed, 0, rows);
        Batch outputRows = rows == n ? batch : s.tail.setTail(batch, rows);
        if (hooks.active(Kind.FINAL_NORM, -1)) hooks.at(HookPoint.finalNorm(), outputRows, s.normed, 0, hidden);
        output.apply(s.normed, logits, rows);
        if (scales.logitsDivisor() != 1) {
            float inverse = 1 / scales.logitsDivisor();
            for (int i = 0; i < rows * config.vocabularySize(); i++) logits[i] *= inverse;
        }
        if (hooks.active(Kind.LOGITS, -1)) hooks.at(HookPoint.logits(), outputRows, logits, 0, config.vocabularySize());
    }

    private void embed(Batch batch, float[] x) {
        float scale = config.scales().embedding();
        for (int t = 0; t < batch.size(); t++) {
            int token = batch.token(t);
            if (token < 0 || token >= config.vocabularySize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of " + config.vocabularySize());
            }
            Dequantize.row(weights.tokenEmbedding(), token, x, t * hidden);
            if (scale != 1) for (int i = 0; i < hidden; i++) x[t * hidden + i] *= scale;
        }
    }

    private static void addScaled(float[] x, float[] y, int n, float scale) {
        if (scale == 1) {
            for (int i = 0; i < n; i++) x[i] += y[i];
        } else {
            for (int i = 0; i < n; i++) x[i] += y[i] * scale;
        }
    }

    /** The sequence would exceed the context the state was made for. */
    public static final class ContextFullException extends RuntimeException {
        public ContextFullException(int needed, int capacity) {
            super("the sequence needs " + needed + " positions but the context holds " + capacity + " (use a larger --ctx)");
        }
    }
}
