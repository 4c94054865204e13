package org.moescope.model.forward;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.moescope.model.config.MoeConfig;
import org.moescope.model.weights.ModelWeights;

/**
 * A gated feed-forward network (Shazeer 2020): down(act(gate·x) ⊙ up·x). Used for dense layers,
 * routed experts and shared experts alike; only the activation differs (SiLU, or gpt-oss's clamped
 * SwiGLU).
 */
final class Mlp {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private final Linear gate, up, down;
    private final MoeConfig.Activation activation;

    Mlp(ModelWeights.Mlp w, MoeConfig.Activation activation, Numerics numerics) {
        this.gate = new Linear(w.gate(), w.gateBias(), numerics);
        this.up = new Linear(w.up(), w.upBias(), numerics);
        this.down = new Linear(w.down(), w.downBias(), numerics);
        this.activation = activation;
    }

    int width() { return gate.out(); }

    /** x: [n, hidden] → y: [n, hidden]; gateBuffer/upBuffer hold [n, width]. */
    void forward(float[] x, float[] y, int n, float[] gateBuffer, float[] upBuffer) {
        forward(x, y, n, gateBuffer, upBuffer, true);
    }

    /** With {@code parallel} false the products run on the calling thread (experts computed side by side). */
    void forward(float[] x, float[] y, int n, float[] gateBuffer, float[] upBuffer, boolean parallel) {
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
     * gate[i] = gate[i]·σ(gate[i])·up[i] for i in [from, to), in vectors (the Vector API's exp,
     * allowed an ulp or two from Math.exp's, equal to it on all 2^20 inputs tried); the last part
     * masked rather than scalar, so that each value comes out the same wherever a range starts or
     * ends (a product split into chunks gives the bits of the whole).
     */
    static void siluGlu(float[] gateBuffer, float[] upBuffer, int from, int to) {
        for (int i = from; i < to; i += SPECIES.length()) {
            VectorMask<Float> in = SPECIES.indexInRange(i, to);
            FloatVector g = FloatVector.fromArray(SPECIES, gateBuffer, i, in);
            g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(SPECIES, upBuffer, i, in)).intoArray(gateBuffer, i, in);
        }
    }

    Linear gate() { return gate; }

    Linear up() { return up; }

    Linear down() { return down; }
}
