package org.moescope.model.forward;

import org.moescope.format.TensorData;
import org.moescope.tensor.ActivationQuantizer;
import org.moescope.tensor.Matrix;
import org.moescope.tensor.Workers;

/**
 * y = W·x + b over a batch of input rows, W stored [out, in] in its file type and read through the
 * tensor kernels, rows split across the worker pool. Under {@link Numerics#LLAMA_CPP} (GGUF files)
 * activations are rounded as llama.cpp rounds them for the weight type (Q8_0, Q8_K, f16, bf16), so
 * that a GGUF computes what llama.cpp computes; under {@link Numerics#FLOAT32} (HF checkpoints) they
 * stay float32, as transformers computes.
 */
public final class Linear {
    /** Below this many weight elements a product is not worth splitting across threads. */
    private static final long PARALLEL_THRESHOLD = 1 << 16;
    /**
     * Chunks per thread of a product computed row by row (see {@link Workers#parallelFor(String, int, int, Workers.RangeTask)}):
     * a thread slowed by the machine hands its last chunks to the others instead of holding the job up.
     */
    private static final int ROW_CHUNKS = 8;

    private final Matrix matrix;
    private final float[] bias;
    private final int in;
    private final int out;
    private final ActivationQuantizer.Format activations;
    /** This product's jobs in Workers' timing table: its shape and type. */
    private final String job;
    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[2][0]);

    public Linear(TensorData weight, TensorData bias) {
        this(weight, bias, Numerics.FLOAT32);
    }

    public Linear(TensorData weight, TensorData bias, Numerics numerics) {
        this.matrix = Matrix.of(weight);
        this.in = matrix.columns();
        this.out = matrix.rows();
        this.bias = bias == null ? null : Dequantize.all(bias);
        this.activations = numerics == Numerics.LLAMA_CPP ? matrix.kernel().activationFormat() : ActivationQuantizer.Format.F32;
        this.job = "product " + out + "×" + in + " " + matrix.type();
    }

    public static Linear of(TensorData weight, Numerics numerics) { return new Linear(weight, null, numerics); }

    public int in() { return in; }

    public int out() { return out; }

    public Matrix matrix() { return matrix; }

    /** y[yOffset + t·yStride + r] = W[r]·x[xOffset + t·xStride ...] (+ b[r]) for t &lt; tokens. */
    public void apply(float[] x, int xOffset, int xStride, float[] y, int yOffset, int yStride, int tokens) {
        apply(x, xOffset, xStride, y, yOffset, yStride, tokens, true);
    }

    /**
     * ys[i] = Ws[i]·x (+ b) for several products of one input (q, k and v), as one parallel job
     * instead of one each: every row is computed as {@link #apply} computes it (same rounded input,
     * same kernel), with fewer hand-offs between threads. A batch of {@link #TOKEN_LANES_FROM}+
     * tokens is transposed and rounded once for all of them; smaller batches go one by one.
     */
    public static void applyTogether(float[] x, int tokens, Linear[] ls, float[][] ys) {
        Workers w = Workers.shared();
        long work = 0;
        int total = 0;
        for (Linear l : ls) {
            work += (long) l.in * l.out;
            total += l.out;
        }
        if (inLanes(tokens) && roundAlike(ls)) {
            applyInLanes(ls, x, 0, ls[0].in, tokens, ys, 0, 0, true);
            return;
        }
        if (tokens != 1 || w.threads() == 1 || work < PARALLEL_THRESHOLD) {
            for (int i = 0; i < ls.length; i++) ls[i].apply(x, ys[i], tokens);
            return;
        }
        Together task = TOGETHER.get();
        if (task.inputs.length < ls.length) {
            task.inputs = new float[ls.length][];
            task.buffers = java.util.Arrays.copyOf(task.buffers, ls.length);
            for (int i = 0; i < ls.length; i++) if (task.buffers[i] == null) task.buffers[i] = new float[0];
        }
        float[][] inputs = task.inputs;
        for (int i = 0; i < ls.length; i++) {
            inputs[i] = null;
            // products that round the input alike share it
            for (int j = 0; j < i && inputs[i] == null; j++) if (ls[j].roundsLike(ls[i])) inputs[i] = inputs[j];
            if (inputs[i] == null) inputs[i] = ls[i].input(x, 0, ls[i].in, 1, task.buffers, i);
        }
        task.products = ls;
        task.outputs = ys;
        try {
            w.parallelFor("products of one input", total, ROW_CHUNKS * w.threads(), task);
        } finally {
            task.products = null;
            task.outputs = null;
        }
        for (int i = 0; i < ls.length; i++) ls[i].addBias(ys[i], 0);
    }

    /*
     * The parallel tasks of apply and applyTogether, one per calling thread and reused: a lambda
     * capturing the arguments would be allocated on every call, dozens of times per decoded token.
     * The fields are set before the job is published and read by the threads that run its chunks.
     */
    private static final class Together implements Workers.RangeTask {
        Linear[] products;
        /** The products' rounded inputs (inputs[i] may be buffers[i] or a twin's), and their outputs. */
        float[][] inputs = new float[3][], buffers = {new float[0], new float[0], new float[0]}, outputs;

        @Override
        public void run(int from, int to, int worker) {
            int offset = 0;
            for (int i = 0; i < products.length; i++) {
                int lo = Math.max(from, offset), hi = Math.min(to, offset + products[i].out);
                if (lo < hi) products[i].matrix.matVec(inputs[i], 0, outputs[i], 0, lo - offset, hi - offset);
                offset += products[i].out;
            }
        }
    }

    private static final class Rows implements Workers.RangeTask {
        Linear product;
        float[] input, result;
        int tokens;

        @Override
        public void run(int from, int to, int worker) { product.multiply(input, result, tokens, from, to, SCRATCH.get()); }
    }

    private static final ThreadLocal<Together> TOGETHER = ThreadLocal.withInitial(Together::new);
    private static final ThreadLocal<Rows> ROWS_TASK = ThreadLocal.withInitial(Rows::new);

    /** As {@link #apply}, on the calling thread only (when the caller already runs in parallel). */
    public void applySerial(float[] x, float[] y, int tokens) {
        apply(x, 0, in, y, 0, out, tokens, false);
    }

    private void apply(float[] x, int xOffset, int xStride, float[] y, int yOffset, int yStride, int tokens, boolean parallel) {
        if (inLanes(tokens)) {
            applyInLanes(new Linear[] {this}, x, xOffset, xStride, tokens, new float[][] {y}, yOffset, yStride, parallel);
            return;
        }
        float[][] buffers = BUFFERS.get();
        float[] input = input(x, xOffset, xStride, tokens, buffers, 0);
        // contiguous output when the caller's layout is not [tokens, out] at offset 0
        boolean direct = yOffset == 0 && (yStride == out || tokens == 1);
        float[] result;
        if (direct) {
            result = y;
        } else {
            if (buffers[1].length < tokens * out) buffers[1] = new float[tokens * out];
            result = buffers[1];
        }
        long work = (long) in * out;
        if (!parallel || work < PARALLEL_THRESHOLD) {
            multiply(input, result, tokens, 0, out, SCRATCH.get());
        } else {
            Workers w = Workers.shared();
            // row by row (decode): small chunks, so that threads running at different speeds finish together
            int parts = tokens <= Matrix.ROW_EXACT_TOKENS ? ROW_CHUNKS * w.threads() : w.threads();
            Rows task = ROWS_TASK.get();
            task.product = this;
            task.input = input;
            task.result = result;
            task.tokens = tokens;
            try {
                w.parallelFor(job, out, parts, task);
            } finally {
                task.product = null;
                task.input = task.result = null;
            }
        }
        for (int t = 0; t < tokens; t++) {
            int to = direct ? t * out : yOffset + t * yStride;
            if (!direct) System.arraycopy(result, t * out, y, to, out);
            addBias(y, to);
        }
    }

    /**
     * From this many tokens, where the vectors have 16 lanes ({@link Matrix#tokenLanesAvailable}), a
     * product puts the tokens in the vector lanes ({@link #applyTokens}): each token's outputs are
     * then independent of the rest of the batch and of how rows are shared among threads.
     */
    static final int TOKEN_LANES_FROM = 16;

    static boolean inLanes(int tokens) { return tokens >= TOKEN_LANES_FROM && Matrix.tokenLanesAvailable(); }

    /** Per thread: transposed inputs and outputs of the token-lane products. */
    private static final ThreadLocal<float[][]> LANE_BUFFERS = ThreadLocal.withInitial(() -> new float[2][0]);

    static float[] grow(float[][] buffers, int i, int size) {
        if (buffers[i] == null || buffers[i].length < size) buffers[i] = new float[size];
        return buffers[i];
    }

    /** Whether the products round their input alike (one rounded copy serves them all). */
    static boolean roundAlike(Linear[] ls) {
        for (Linear l : ls) if (!l.roundsLike(ls[0])) return false;
        return true;
    }

    /**
     * The products ls (rounding alike) of x's tokens with the tokens in the vector lanes: the input
     * transposed and rounded once for all of them, their rows laid end to end and shared among the
     * threads when {@code parallel} and large enough ({@link #applyTokens(Linear[], float[], int, float[][], int, int)}),
     * each output transposed back into ys[i][yOffset + t·yStride + r] (yStride 0: ls[i].out).
     */
    private static void applyInLanes(Linear[] ls, float[] x, int xOffset, int xStride, int tokens, float[][] ys, int yOffset, int yStride,
            boolean parallel) {
        int tp = Matrix.paddedTokens(tokens), in = ls[0].in, rows = 0;
        long work = 0;
        float[][] b = LANE_BUFFERS.get();
        if (b.length < 1 + ls.length) LANE_BUFFERS.set(b = java.util.Arrays.copyOf(b, 1 + ls.length));
        float[] xt = grow(b, 0, Matrix.LANES_AT + in * tp);
        float[][] yts = new float[ls.length][];
        for (int i = 0; i < ls.length; i++) {
            yts[i] = grow(b, 1 + i, Matrix.LANES_AT + ls[i].out * tp);
            rows += ls[i].out;
            work += (long) in * ls[i].out;
        }
        // the input transposed and rounded 16 tokens at a time, the rows' outputs transposed back by
        // the thread that computed them: with several threads nothing of it runs on one alone
        Workers.RangeTask prepare = (from, to, worker) -> {
            Matrix.transposeTokens(x, xOffset, xStride, tokens, in, xt, tp, 16 * from, 16 * to);
            ls[0].roundTokens(xt, tp, 16 * from, 16 * to);
        };
        Workers.RangeTask task = (from, to, worker) -> {
            applyTokens(ls, xt, tp, yts, from, to);
            for (int i = 0, offset = 0; i < ls.length; offset += ls[i].out, i++) {
                int lo = Math.max(from, offset), hi = Math.min(to, offset + ls[i].out);
                if (lo < hi) Matrix.untransposeTokens(yts[i], tp, lo - offset, hi - offset, tokens, ys[i], yOffset, yStride == 0 ? ls[i].out : yStride);
            }
        };
        // the work is the weights times the tokens: a router's few rows over a prompt are worth both threads
        if (parallel && work * tp >= PARALLEL_THRESHOLD * TOKEN_LANES_FROM) {
            Workers.shared().parallelFor("prompt: inputs into lanes", tp / 16, prepare);
            Workers.shared().parallelFor("prompt: products in lanes", rows, task);
        } else {
            prepare.run(0, tp / 16, 0);
            task.run(0, rows, 0);
        }
    }

    /**
     * Rows [from, to) of the products ls laid end to end (ls[0]'s rows, then ls[1]'s, …), each
     * product's share by {@link #applyTokens(float[], int, float[], int, int)} into yts[i].
     */
    static void applyTokens(Linear[] ls, float[] xt, int tp, float[][] yts, int from, int to) {
        for (int i = 0, offset = 0; i < ls.length; offset += ls[i].out, i++) {
            int lo = Math.max(from, offset), hi = Math.min(to, offset + ls[i].out);
            if (lo < hi) ls[i].applyTokens(xt, tp, yts[i], lo - offset, hi - offset);
        }
    }

    /**
     * The input rows, contiguous and rounded as llama.cpp rounds them for this weight type: x itself
     * when nothing needs doing, else buffers[slot] (grown when needed) filled.
     */
    private float[] input(float[] x, int xOffset, int xStride, int tokens, float[][] buffers, int slot) {
        if (activations == ActivationQuantizer.Format.F32 && xStride == in && xOffset == 0) return x;
        if (buffers[slot].length < tokens * in) buffers[slot] = new float[tokens * in];
        float[] input = buffers[slot];
        for (int t = 0; t < tokens; t++) System.arraycopy(x, xOffset + t * xStride, input, t * in, in);
        roundInput(input, 0, tokens);
        return input;
    }

    /** Whether this product rounds its input as {@code other} does (one rounded copy serves both). */
    boolean roundsLike(Linear other) { return activations == other.activations && in == other.in; }

    /** Rounds tokens input rows x[at + t·in ...] in place as {@link #apply} rounds its input. */
    void roundInput(float[] x, int at, int tokens) {
        for (int t = 0; t < tokens; t++) ActivationQuantizer.roundTrip(activations, x, at + t * in, in);
    }

    /**
     * Rows [from, to) of W·x (+ b) on the calling thread, for at most {@link Matrix#ROW_EXACT_TOKENS}
     * input rows x[xOffset + t·in ...] already rounded ({@link #roundInput}), into y[yOffset + t·out + r]:
     * each output what {@link #apply} gives it.
     */
    void rows(float[] x, int xOffset, int tokens, float[] y, int yOffset, int from, int to) {
        matrix.matMulRows(x, xOffset, in, tokens, y, yOffset, out, from, to);
        for (int t = 0; t < tokens; t++) addBias(y, yOffset + t * out, from, to);
    }

    /**
     * Rounds transposed input rows (xt[LANES_AT + c·tp + t], see {@link Matrix#transposeTokens}) in place as
     * {@link #apply} rounds its input: the same bits for each token.
     */
    void roundTokens(float[] xt, int tp) { ActivationQuantizer.roundTripTokens(activations, xt, tp, in); }

    /** {@link #roundTokens} of lanes [laneFrom, laneTo) only (multiples of 16). */
    void roundTokens(float[] xt, int tp, int laneFrom, int laneTo) { ActivationQuantizer.roundTripTokens(activations, xt, tp, in, laneFrom, laneTo); }

    /**
     * yt[LANES_AT + r·tp + t] = W[r]·(token t of xt) (+ b[r]) for rows r in [from, to) and all tp lanes, on the
     * calling thread, from transposed input already rounded ({@link #roundTokens}): {@link Matrix#matMulTokens}.
     */
    void applyTokens(float[] xt, int tp, float[] yt, int from, int to) {
        matrix.matMulTokens(xt, tp, yt, from, to);
        if (bias != null) for (int r = from; r < to; r++) for (int t = 0; t < tp; t++) yt[Matrix.LANES_AT + r * tp + t] += bias[r];
    }

    private void addBias(float[] y, int at) { addBias(y, at, 0, out); }

    /** y[at + r] += b[r] for r in [from, to). */
    private void addBias(float[] y, int at, int from, int to) {
        if (bias != null) for (int r = from; r < to; r++) y[at + r] += bias[r];
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private void multiply(float[] input, float[] result, int tokens, int from, int to, float[] scratch) {
        if (tokens == 1) {
            matrix.matVec(input, 0, result, 0, from, to);
            return;
        }
        if (scratch.length < 4 * in) {
            scratch = new float[4 * in];
            SCRATCH.set(scratch);
        }
        matrix.matMul(input, in, tokens, result, out, from, to, scratch);
    }

    /** Contiguous batch: x is [tokens, in], y is [tokens, out]. */
    public void apply(float[] x, float[] y, int tokens) {
        apply(x, 0, in, y, 0, out, tokens);
    }
}
