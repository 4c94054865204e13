package org.moescope.model.forward;

/**
 * Every buffer one sequence needs, allocated once for a largest batch and a context length, so
 * that the token loop allocates nothing (llama3.java's State). Owned by one session; not shared
 * between threads.
 */
public final class State {
    final int maxBatch;
    final KvCache cache;
    final float[] residual, normed, branch, query, attended;
    final float[] latentQuery, absorbedQuery, attendedLatent;
    final float[] routerLogits, selectedWeights;
    float[] expertIn, expertOut;
    /** Decode: the active experts' gate and up rows ([rows, width] each) and their chunk bookkeeping ({@link MoeBlock}). */
    float[] expertGates, expertUps;
    final java.util.concurrent.atomic.AtomicLongArray expertChunks;
    final java.util.concurrent.atomic.AtomicInteger nextExpert = new java.util.concurrent.atomic.AtomicInteger();
    final float[][] expertGate, expertUp, workerIn, workerOut;
    /** Per worker thread: attention scores over the context, and one cached key or value row widened from f16 (worker 0's: the calling thread's). */
    final float[][] workerScores, workerCacheRow;
    /** Per worker: four tokens' attention scores side by side (GroupedQueryAttention's quads), contextLength apart. */
    final float[][] quadScores;
    final int[] selected, selectedCount, expertCount, expertOffset, activeExperts, expertOrder, expertSorted;
    /** Per thread: experts dealt and token rows held, while {@link MoeBlock} shares experts out. */
    final int[] runFilled;
    final long[] runLoad;
    /** The expert row of token t's i-th selection, at t·stride + i as in {@link #selected} ({@link MoeBlock}). */
    final int[] selectedRows;
    int[] expertRows;
    private final int hidden, expertWidth;
    final float[] sharedOut, sharedGateBuffer, sharedUpBuffer, sharedGateLogit;
    final float[] denseGate, denseUp;
    /** The rows whose logits are computed, when that is not the whole batch. */
    final org.moescope.model.hook.Batch tail = new org.moescope.model.hook.Batch();
    private int position;

    final float[] newKeys, newValues;
    /** The task that runs a layer's experts in chunks across the threads (see MoeBlock.runExpertsInChunks). */
    final MoeBlock.ExpertChunks expertChunksTask = new MoeBlock.ExpertChunks(this);
    /** The task that splits a layer's attention (token, head) pairs across the threads. */
    final GroupedQueryAttention.Pairs attentionTask = new GroupedQueryAttention.Pairs(this);
    /** {query, newKeys, newValues}: the outputs of a layer's q, k and v products, computed together. */
    final float[][] queryKeyValue;

    /**
     * In a pass shared by several sequences ({@link Transformer#decodeTogether}): row t's own state,
     * whose cache and position row t uses. Null when the rows are this state's own sequence.
     */
    State[] owners;

    State(Transformer model, int maxBatch, int contextLength, KvCache.Precision precision) {
        this(model, maxBatch, contextLength, contextLength, precision);
    }

    /** {@code cacheLength} below {@code contextLength}: a state whose rows use other states' caches. */
    State(Transformer model, int maxBatch, int contextLength, int cacheLength, KvCache.Precision precision) {
        var c = model.config();
        var a = c.attention();
        int hidden = c.hiddenSize();
        this.maxBatch = maxBatch;
        int[] widths = model.cacheWidths();
        this.cache = new KvCache(c.layerCount(), cacheLength, widths[0], widths[1], precision);
        newKeys = new float[maxBatch * widths[0]];
        newValues = new float[maxBatch * widths[1]];
        residual = new float[maxBatch * hidden];
        normed = new float[maxBatch * hidden];
        branch = new float[maxBatch * hidden];
        query = new float[maxBatch * a.heads() * a.headDim()];
        attended = new float[maxBatch * a.heads() * a.valueHeadDim()];
        queryKeyValue = new float[][] {query, newKeys, newValues};
        int rank = a.isLatent() ? a.mla().kvLoraRank() : 0;
        latentQuery = new float[a.isLatent() ? maxBatch * a.mla().queryLoraRank() : 0];
        absorbedQuery = new float[rank];
        attendedLatent = new float[rank];
        int experts = c.isMoe() ? c.moe().experts() : 0;
        int expertWidth = model.expertWidth();
        routerLogits = new float[maxBatch * experts];
        selected = new int[maxBatch * experts];
        selectedRows = new int[maxBatch * experts];
        selectedWeights = new float[maxBatch * experts];
        selectedCount = new int[maxBatch];
        this.hidden = hidden;
        int k = c.isMoe() ? c.moe().expertsPerToken() : 0;
        expertCount = new int[experts];
        expertOffset = new int[experts];
        activeExperts = new int[experts];
        expertOrder = new int[experts];
        expertSorted = new int[experts];
        expertRows = new int[maxBatch * k];
        expertIn = new float[maxBatch * k * hidden];
        expertOut = new float[maxBatch * k * hidden];
        this.expertWidth = expertWidth;
        expertGates = new float[maxBatch * k * expertWidth];
        expertUps = new float[maxBatch * k * expertWidth];
        expertChunks = new java.util.concurrent.atomic.AtomicLongArray(MoeBlock.CHUNK_STATE * experts);
        int workers = org.moescope.tensor.Workers.shared().threads();
        runFilled = new int[workers];
        runLoad = new long[workers];
        expertGate = new float[workers][maxBatch * expertWidth];
        expertUp = new float[workers][maxBatch * expertWidth];
        workerIn = new float[workers][maxBatch * hidden];
        workerOut = new float[workers][maxBatch * hidden];
        workerScores = new float[workers][contextLength];
        quadScores = new float[workers][4 * contextLength];
        workerCacheRow = new float[workers][Math.max(widths[0], widths[1])];
        int sharedWidth = model.sharedWidth();
        sharedOut = new float[sharedWidth > 0 ? maxBatch * hidden : 0];
        sharedGateBuffer = new float[maxBatch * sharedWidth];
        sharedUpBuffer = new float[maxBatch * sharedWidth];
        sharedGateLogit = new float[maxBatch];
        denseGate = new float[maxBatch * c.feedForwardSize()];
        denseUp = new float[maxBatch * c.feedForwardSize()];
    }

    /** Room for {@code rows} expert rows (more than top-k per token when a profile raises k). */
    void ensureExpertRows(int rows) {
        if (expertRows.length >= rows) return;
        expertRows = new int[rows];
        expertIn = new float[rows * hidden];
        expertOut = new float[rows * hidden];
        expertGates = new float[rows * expertWidth];
        expertUps = new float[rows * expertWidth];
    }

    /** Rows [from, from + m) of the sorted expert inputs, copied to the worker's contiguous buffer. */
    float[] expertInView(int worker, int from, int m) {
        System.arraycopy(expertIn, from * hidden, workerIn[worker], 0, m * hidden);
        return workerIn[worker];
    }

    float[] expertOutView(int worker, int m) { return workerOut[worker]; }

    KvCache cacheOf(int row) { return owners == null ? cache : owners[row].cache; }

    int positionOf(org.moescope.model.hook.Batch batch, int row) { return owners == null ? batch.position(row) : owners[row].position; }

    /** Stores the batch's new keys and values ([n, width] rows) at their positions, in their own caches. */
    void store(int layer, org.moescope.model.hook.Batch batch, float[] keys, int keyWidth, float[] values, int valueWidth) {
        if (owners == null) {
            cache.store(layer, batch.startPosition(), batch.size(), keys, 0, values, 0);
            return;
        }
        for (int t = 0; t < batch.size(); t++) {
            owners[t].cache.store(layer, owners[t].position, 1, keys, t * keyWidth, values, values == null ? 0 : t * valueWidth);
        }
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
