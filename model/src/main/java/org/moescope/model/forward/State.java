package org.moescope.model.forward;

/**
 * Every buffer one sequence needs, allocated once for a largest batch and a context length, so
 * that the token loop allocates nothing (llama3.java's State). Owned by one session; not shared
 * between threads.
 */
public final class State {
    final int maxBatch;
    final KvCache cache;
    final float[] residual, normed, branch, query, attended, scores;
    final float[] latentQuery, absorbedQuery, attendedLatent;
    final float[] routerLogits, selectedWeights, expertRowWeights, expertIn, expertOut, expertGate, expertUp;
    final int[] selected, selectedCount, expertRows;
    final float[] sharedOut, sharedGateBuffer, sharedUpBuffer, sharedGateLogit;
    final float[] denseGate, denseUp;
    /** The rows whose logits are computed, when that is not the whole batch. */
    final org.moescope.model.hook.Batch tail = new org.moescope.model.hook.Batch();
    private int position;

    final float[] newKeys, newValues, cacheRow;

    State(Transformer model, int maxBatch, int contextLength, KvCache.Precision precision) {
        var c = model.config();
        var a = c.attention();
        int hidden = c.hiddenSize();
        this.maxBatch = maxBatch;
        int[] widths = model.cacheWidths();
        this.cache = new KvCache(c.layerCount(), contextLength, widths[0], widths[1], precision);
        newKeys = new float[maxBatch * widths[0]];
        newValues = new float[maxBatch * widths[1]];
        cacheRow = new float[Math.max(widths[0], widths[1])];
        residual = new float[maxBatch * hidden];
        normed = new float[maxBatch * hidden];
        branch = new float[maxBatch * hidden];
        query = new float[maxBatch * a.heads() * a.headDim()];
        attended = new float[maxBatch * a.heads() * a.valueHeadDim()];
        scores = new float[contextLength];
        int rank = a.isLatent() ? a.mla().kvLoraRank() : 0;
        latentQuery = new float[a.isLatent() ? maxBatch * a.mla().queryLoraRank() : 0];
        absorbedQuery = new float[rank];
        attendedLatent = new float[rank];
        int experts = c.isMoe() ? c.moe().experts() : 0;
        int expertWidth = model.expertWidth();
        routerLogits = new float[maxBatch * experts];
        selected = new int[maxBatch * experts];
        selectedWeights = new float[maxBatch * experts];
        selectedCount = new int[maxBatch];
        expertRows = new int[maxBatch];
        expertRowWeights = new float[maxBatch];
        expertIn = new float[maxBatch * hidden];
        expertOut = new float[maxBatch * hidden];
        expertGate = new float[maxBatch * expertWidth];
        expertUp = new float[maxBatch * expertWidth];
        int sharedWidth = model.sharedWidth();
        sharedOut = new float[sharedWidth > 0 ? maxBatch * hidden : 0];
        sharedGateBuffer = new float[maxBatch * sharedWidth];
        sharedUpBuffer = new float[maxBatch * sharedWidth];
        sharedGateLogit = new float[maxBatch];
        denseGate = new float[maxBatch * c.feedForwardSize()];
        denseUp = new float[maxBatch * c.feedForwardSize()];
    }

    /** Number of positions already in the cache: the next token's position. */
    public int position() { return position; }

    /** Forgets positions from {@code position} on (the cache keeps its memory). */
    public void rewind(int position) {
        if (position < 0 || position > this.position) throw new IllegalArgumentException("cannot rewind to " + position);
        this.position = position;
    }

    void advance(int n) { position += n; }

    public int contextLength() { return cache.capacity(); }

    public int maxBatch() { return maxBatch; }

    public KvCache cache() { return cache; }
}
