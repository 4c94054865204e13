package org.moescope.model.forward;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.moescope.model.config.MoeConfig;
import org.moescope.model.weights.ModelWeights;
import org.moescope.tensor.Matrix;
import org.moescope.tensor.VectorExp;
import org.moescope.tensor.Workers;

/**
 * A gated feed-forward network (Shazeer 2020): down(act(gate·x) ⊙ up·x). Used for dense layers,
 * routed experts and shared experts alike; only the activation differs (SiLU, or gpt-oss's clamped
 * SwiGLU).
 */
final class Mlp {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private final Linear gate, up, down;
    /** gate and up, whose rows {@link #forwardInLanes} computes as one job. */
    private final Linear[] gateAndUp;
    private final MoeConfig.Activation activation;

    Mlp(ModelWeights.Mlp w, MoeConfig.Activation activation, Numerics numerics) {
        this.gate = new Linear(w.gate(), w.gateBias(), numerics);
        this.up = new Linear(w.up(), w.upBias(), numerics);
        this.down = new Linear(w.down(), w.downBias(), numerics);
        this.gateAndUp = new Linear[] {gate, up};
        this.activation = activation;
    }

    int width() { return gate.out(); }

    /** x: [n, hidden] → y: [n, hidden]; gateBuffer/upBuffer hold [n, width]. */
    void forward(float[] x, float[] y, int n, float[] gateBuffer, float[] upBuffer) {
        forward(x, y, n, gateBuffer, upBuffer, true);
    }

    /** With {@code parallel} false the products run on the calling thread (experts computed side by side). */
    void forward(float[] x, float[] y, int n, float[] gateBuffer, float[] upBuffer, boolean parallel) {
        if (inLanes(n)) {
            forwardInLanes(x, 0, y, 0, n, parallel);
            return;
        }
        if (parallel) {
            gate.apply(x, gateBuffer, n);
            up.apply(x, upBuffer, n);
        } else {
            gate.applySerial(x, gateBuffer, n);
            up.applySerial(x, upBuffer, n);
        }
        activate(gateBuffer, upBuffer, 0, n * gate.out());
        if (parallel) down.apply(gateBuffer, y, n);
        else down.applySerial(gateBuffer, y, n);
    }

    /** Per thread: the transposed input, gate, up and output of {@link #forwardInLanes}. */
    private static final ThreadLocal<float[][]> LANES = ThreadLocal.withInitial(() -> new float[4][0]);

    /** Whether {@link #forward} of n tokens puts them in the vector lanes ({@link #forwardInLanes}). */
    boolean inLanes(int n) { return Linear.inLanes(n) && Linear.roundAlike(gateAndUp); }

    /**
     * {@link #forward} of n tokens ({@link #inLanes}) with the tokens in the vector lanes throughout,
     * input rows from x[xOffset], output rows to y[yOffset]: the input is transposed once
     * ({@link Matrix#transposeTokens}) and rounded once for gate and up; gate, up, the activation,
     * down's rounding and its product all work on transposed rows ({@link Linear#applyTokens});
     * only the output is transposed back. Each token's outputs are independent of the rest of the
     * batch, and of how the rows are shared out among threads.
     */
    void forwardInLanes(float[] x, int xOffset, float[] y, int yOffset, int n, boolean parallel) {
        int tp = Matrix.paddedTokens(n), in = gate.in(), width = gate.out(), hidden = down.out();
        float[][] b = LANES.get();
        int at = Matrix.LANES_AT;
        float[] xt = Linear.grow(b, 0, at + in * tp), g = Linear.grow(b, 1, at + width * tp), u = Linear.grow(b, 2, at + width * tp);
        float[] yt = Linear.grow(b, 3, at + hidden * tp);
        Matrix.transposeTokens(x, xOffset, in, n, in, xt, tp);
        gate.roundTokens(xt, tp);
        float[][] gu = {g, u};
        Workers.RangeTask gateUp = (from, to, worker) -> Linear.applyTokens(gateAndUp, xt, tp, gu, from, to);
        Workers.RangeTask downRows = (from, to, worker) -> down.applyTokens(g, tp, yt, from, to);
        if (parallel) Workers.shared().parallelFor("prompt: expert gate/up in lanes", 2 * width, gateUp);
        else gateUp.run(0, 2 * width, 0);
        activate(g, u, at, at + width * tp);
        down.roundTokens(g, tp);
        if (parallel) Workers.shared().parallelFor("prompt: expert down in lanes", hidden, downRows);
        else downRows.run(0, hidden, 0);
        Matrix.untransposeTokens(yt, tp, hidden, n, y, yOffset, hidden);
    }

    /** gate[i] = act(gate[i], up[i]) for i in [from, to): the gated activation, in place. */
    void activate(float[] gateBuffer, float[] upBuffer, int from, int to) {
        switch (activation) {
            case MoeConfig.SiluGlu s -> siluGlu(gateBuffer, upBuffer, from, to);
            case MoeConfig.ClampedSwiglu c -> {
                // GptOssExperts: gate ≤ limit, |up| ≤ limit, (up + 1) · gate · σ(α·gate)
                for (int i = from; i < to; i++) {
                    float g = Math.min(gateBuffer[i], c.limit());
                    float u = Math.max(-c.limit(), Math.min(upBuffer[i], c.limit()));
                    float glu = g / (1 + (float) Math.exp(-c.alpha() * g));
                    gateBuffer[i] = (u + 1) * glu;
                }
            }
        }
    }

    /**
     * gate[i] = gate[i]·σ(gate[i])·up[i] for i in [from, to), in vectors, e^-gate from
     * {@link VectorExp} (the same bits however the JIT has compiled it; the Vector API's EXP is
     * not); the last part masked rather than scalar, so that each value comes out the same wherever
     * a range starts or ends (a product split into chunks gives the bits of the whole).
     */
    static void siluGlu(float[] gateBuffer, float[] upBuffer, int from, int to) {
        float[] e = EXPS.get();
        for (int at = from; at < to; at += e.length) {
            int n = Math.min(e.length, to - at);
            for (int i = 0; i < n; i += SPECIES.length()) {
                VectorMask<Float> in = SPECIES.indexInRange(i, n);
                FloatVector.fromArray(SPECIES, gateBuffer, at + i, in).neg().intoArray(e, i, in);
            }
            VectorExp.expShifted(e, 0, n, 0f);
            for (int i = 0; i < n; i += SPECIES.length()) {
                VectorMask<Float> in = SPECIES.indexInRange(i, n);
                FloatVector g = FloatVector.fromArray(SPECIES, gateBuffer, at + i, in);
                g.div(FloatVector.fromArray(SPECIES, e, i, in).add(1f)).mul(FloatVector.fromArray(SPECIES, upBuffer, at + i, in)).intoArray(gateBuffer, at + i, in);
            }
        }
    }

    /** Per thread: e^-gate for a stretch of {@link #siluGlu}. */
    private static final ThreadLocal<float[]> EXPS = ThreadLocal.withInitial(() -> new float[512]);

    Linear gate() { return gate; }

    Linear up() { return up; }

    Linear down() { return down; }
}
