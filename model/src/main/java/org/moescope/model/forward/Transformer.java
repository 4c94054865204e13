package org.moescope.model.forward;

import org.moescope.model.config.ModelConfig;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.HookPoint.Kind;
import org.moescope.model.hook.Hooks;
import org.moescope.model.weights.ModelWeights;
import org.moescope.tensor.Matrix;
import org.moescope.tensor.Workers;

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
        org.moescope.tensor.JitFlags.checkOnce();
        Numerics numerics = file.format() == org.moescope.model.ModelFile.Format.GGUF ? Numerics.LLAMA_CPP : Numerics.FLOAT32;
        // small models keep their Q8_0 block scales as floats too (Matrix.withScaleTables): faster decode, the
        // same bits; -Dmoescope.scaleTables=false turns it off (to measure it)
        long q8Bytes = file.storedTensors().stream().filter(t -> t.type() == org.moescope.format.TensorType.Q8_0).mapToLong(t -> t.data().byteSize()).sum();
        boolean tables = Matrix.scaleTablesFit(q8Bytes) && !"false".equals(System.getProperty("moescope.scaleTables"));
        return Matrix.withScaleTables(tables, () -> new Transformer(file.config(), file.weights(), numerics));
    }

    /** Whether this model's Q8_0 products keep their block scales as floats (see {@link Matrix#withScaleTables}): the LM head's, as a witness. */
    public boolean keepsScaleTables() { return output.matrix().hasScaleTable(); }

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
     * uses every core). Single-token passes without hooks (plain decoding) that wait at the same
     * time are run together as one pass over all their sequences ({@link #decodeTogether}), which
     * reads every weight once for all of them and gives each the bits it would get alone.
     */
    public void forward(State s, Batch batch, Hooks hooks, float[] logits, boolean allLogits) {
        check(s, batch);
        if (SHARED_DECODE && hooks == Hooks.NONE && batch.size() == 1) {
            decodeShared(s, batch, logits);
            return;
        }
        passLock.lock();
        try {
            run(s, batch, hooks, logits, allLogits);
        } finally {
            passLock.unlock();
        }
    }

    /** The most sequences one shared decoding pass takes: up to this many rows, every product is computed row by row as for one. */
    public static final int MAX_SHARED_DECODE = org.moescope.tensor.Matrix.ROW_EXACT_TOKENS;

    /** {@code -Dmoescope.sharedDecode=false} runs every pass on its own (for comparison). */
    private static final boolean SHARED_DECODE = !"false".equals(System.getProperty("moescope.sharedDecode"));

    private final java.util.concurrent.ConcurrentLinkedQueue<Waiting> waiting = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicLong sharedPasses = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong sharedRows = new java.util.concurrent.atomic.AtomicLong();
    private State sharedWork;
    private final Batch sharedBatch = new Batch();
    private float[] sharedLogits = new float[0];

    /** A single-token pass waiting for a shared pass. */
    private static final class Waiting {
        final State state;
        final int token;
        final float[] logits;
        volatile boolean done;
        RuntimeException error;

        Waiting(State state, int token, float[] logits) {
            this.state = state;
            this.token = token;
            this.logits = logits;
        }
    }

    private void decodeShared(State s, Batch batch, float[] logits) {
        // alone (no sequence waiting, the pass free): run at once, with nothing to queue or hand over
        if (waiting.isEmpty() && passLock.tryLock()) {
            try {
                if (waiting.isEmpty()) {
                    run(s, singleBatch(batch.token(0), s), Hooks.NONE, logits, false);
                    return;
                }
            } finally {
                passLock.unlock();
            }
        }
        Waiting mine = new Waiting(s, batch.token(0), logits);
        waiting.add(mine);
        passLock.lock();
        try {
            // whoever holds the lock runs everything waiting; a pass that already took this one finished before unlocking
            java.util.List<Waiting> group = this.group;
            while (!mine.done) {
                group.clear();
                for (Waiting w; group.size() < MAX_SHARED_DECODE && (w = waiting.poll()) != null; ) group.add(w);
                runShared(group);
            }
            group.clear();
        } finally {
            passLock.unlock();
        }
        if (mine.error != null) throw mine.error;
    }

    /** The sequences of the shared pass in progress (used under the pass lock only). */
    private final java.util.List<Waiting> group = new java.util.ArrayList<>(MAX_SHARED_DECODE);

    private void runShared(java.util.List<Waiting> group) {
        try {
            if (group.size() == 1) {
                Waiting w = group.getFirst();
                run(w.state, singleBatch(w.token, w.state), Hooks.NONE, w.logits, false);
            } else {
                State[] states = new State[group.size()];
                int[] tokens = new int[group.size()];
                float[][] logits = new float[group.size()][];
                for (int i = 0; i < states.length; i++) {
                    states[i] = group.get(i).state;
                    tokens[i] = group.get(i).token;
                    logits[i] = group.get(i).logits;
                }
                runTogether(states, tokens, logits);
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < group.size(); i++) group.get(i).error = e;
        } finally {
            for (int i = 0; i < group.size(); i++) group.get(i).done = true;
        }
    }

    private final Batch single = new Batch();
    private final int[] singleToken = new int[1];

    private Batch singleBatch(int token, State s) {
        singleToken[0] = token;
        return single.set(singleToken, 0, 1, s.position(), Batch.Phase.GENERATED);
    }

    /**
     * One pass for several sequences, one new token each (no hooks): token i runs at
     * {@code states[i].position()} against its own cache, its next-token logits go to
     * {@code logits[i]}. Each sequence gets exactly the bits a pass of its own would give.
     */
    public void decodeTogether(State[] states, int[] tokens, float[][] logits) {
        if (states.length > MAX_SHARED_DECODE) throw new IllegalArgumentException("at most " + MAX_SHARED_DECODE + " sequences share a pass");
        java.util.Set<State> distinct = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (State st : states) {
            if (!distinct.add(st)) throw new IllegalArgumentException("a sequence appears twice in one shared pass");
            if (st.position() + 1 > st.contextLength()) throw new ContextFullException(st.position() + 1, st.contextLength());
        }
        passLock.lock();
        try {
            runTogether(states, tokens, logits);
        } finally {
            passLock.unlock();
        }
    }

    private void runTogether(State[] states, int[] tokens, float[][] logits) {
        int n = states.length;
        int context = 0;
        for (State st : states) context = Math.max(context, st.contextLength());
        // one work state for every shared pass (MAX_SHARED_DECODE rows), remade only when a longer context arrives
        if (sharedWork == null || sharedWork.workerScores[0].length < context) {
            sharedWork = new State(this, MAX_SHARED_DECODE, Math.max(context, sharedWork == null ? 0 : sharedWork.workerScores[0].length), 1, KvCache.Precision.F32);
        }
        State w = sharedWork;
        w.owners = states;
        try {
            Batch batch = sharedBatch.set(tokens, 0, n, 0, Batch.Phase.GENERATED);
            layers(w, batch, Hooks.NONE);
            int vocab = config.vocabularySize();
            if (sharedLogits.length < n * vocab) sharedLogits = new float[n * vocab];
            head(w, batch, Hooks.NONE, sharedLogits, 0, n);
            for (int i = 0; i < n; i++) System.arraycopy(sharedLogits, i * vocab, logits[i], 0, vocab);
            for (State st : states) st.advance(1);
            sharedPasses.incrementAndGet();
            sharedRows.addAndGet(n);
        } finally {
            w.owners = null;
        }
    }

    /** Passes that decoded several sequences at once, and the sequences they decoded in all (for /metrics). */
    public long sharedDecodePasses() { return sharedPasses.get(); }

    public long sharedDecodeRows() { return sharedRows.get(); }

    private static void check(State s, Batch batch) {
        int n = batch.size();
        if (n > s.maxBatch) throw new IllegalArgumentException("batch of " + n + " exceeds the state's " + s.maxBatch);
        if (batch.startPosition() != s.position()) throw new IllegalStateException("batch starts at " + batch.startPosition() + ", cache at " + s.position());
        if (s.position() + n > s.contextLength()) {
            throw new ContextFullException(s.position() + n, s.contextLength());
        }
    }

    private void run(State s, Batch batch, Hooks hooks, float[] logits, boolean allLogits) {
        int n = batch.size();
        layers(s, batch, hooks);
        s.advance(n);
        int first = allLogits ? 0 : n - 1;
        int rows = n - first;
        head(s, rows == n ? batch : s.tail.setTail(batch, rows), hooks, logits, first, rows);
    }

    /** Embeddings and every layer, leaving the residual stream of the batch in {@code s.residual}. */
    private void layers(State s, Batch batch, Hooks hooks) {
        int n = batch.size();
        float[] x = s.residual;
        embed(batch, x);
        if (hooks.active(Kind.EMBED, -1)) hooks.at(HookPoint.embed(), batch, x, 0, hidden);
        var scales = config.scales();
        boolean normed = false; // whether s.normed already holds this layer's attention norm (fused with the last residual add)
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            if (hooks.active(Kind.RESID_PRE, l)) hooks.at(HookPoint.block(l, Kind.RESID_PRE), batch, x, 0, hidden);
            if (!normed) addAndNorm(x, null, 1, layer.attentionNorm(), s.normed, n);
            layer.attention().forward(s, batch, s.normed, s.branch);
            if (hooks.active(Kind.ATTN_OUT, l)) hooks.at(HookPoint.block(l, Kind.ATTN_OUT), batch, s.branch, 0, hidden);
            if (hooks.active(Kind.RESID_MID, l)) {
                addAndNorm(x, s.branch, scales.residual(), null, null, n);
                hooks.at(HookPoint.block(l, Kind.RESID_MID), batch, x, 0, hidden);
                addAndNorm(x, null, 1, layer.ffnNorm(), s.normed, n);
            } else {
                addAndNorm(x, s.branch, scales.residual(), layer.ffnNorm(), s.normed, n);
            }
            if (layer.moe() != null) {
                layer.moe().forward(s, batch, s.normed, s.branch, hooks);
                if (hooks.active(Kind.MOE_OUT, l)) hooks.at(HookPoint.block(l, Kind.MOE_OUT), batch, s.branch, 0, hidden);
            } else {
                layer.dense().forward(s.normed, s.branch, n, s.denseGate, s.denseUp);
            }
            // the residual add and the next layer's attention norm in one pass over the tokens, unless a
            // hook looks at (or changes) the residual stream in between
            RmsNorm next = l + 1 < layers.length && !hooks.active(Kind.RESID_POST, l) && !hooks.active(Kind.RESID_PRE, l + 1)
                    ? layers[l + 1].attentionNorm() : null;
            addAndNorm(x, s.branch, scales.residual(), next, next == null ? null : s.normed, n);
            normed = next != null;
            if (hooks.active(Kind.RESID_POST, l)) hooks.at(HookPoint.block(l, Kind.RESID_POST), batch, x, 0, hidden);
        }
    }

    /** Final norm and LM head for {@code rows} rows from residual row {@code first} on; {@code outputRows} is their batch. */
    private void head(State s, Batch outputRows, Hooks hooks, float[] logits, int first, int rows) {
        outputNorm.apply(s.residual, first * hidden, s.normed, 0, rows);
        if (hooks.active(Kind.FINAL_NORM, -1)) hooks.at(HookPoint.finalNorm(), outputRows, s.normed, 0, hidden);
        output.apply(s.normed, logits, rows);
        var scales = config.scales();
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

    /**
     * For the n tokens: x += scale·branch (when branch is given), then normed = norm(x) (when norm
     * is given); a prompt's tokens split across the threads ({@link TokenJobs}).
     */
    private void addAndNorm(float[] x, float[] branch, float scale, RmsNorm norm, float[] normed, int n) {
        if (TokenJobs.split(n)) Workers.shared().parallelFor("residual add + norm", n, (from, to, worker) -> addAndNorm(x, branch, scale, norm, normed, from, to));
        else addAndNorm(x, branch, scale, norm, normed, 0, n);
    }

    private void addAndNorm(float[] x, float[] branch, float scale, RmsNorm norm, float[] normed, int from, int to) {
        if (branch != null) addScaled(x, branch, from * hidden, to * hidden, scale);
        if (norm != null) norm.apply(x, from * hidden, normed, from * hidden, to - from);
    }

    private static void addScaled(float[] x, float[] y, int from, int to, float scale) {
        if (scale == 1) {
            for (int i = from; i < to; i++) x[i] += y[i];
        } else {
            for (int i = from; i < to; i++) x[i] += y[i] * scale;
        }
    }

    /** The sequence would exceed the context the state was made for. */
    public static final class ContextFullException extends RuntimeException {
        public ContextFullException(int needed, int capacity) {
            super("the sequence needs " + needed + " positions but the context holds " + capacity + " (use a larger --ctx)");
        }
    }
}
