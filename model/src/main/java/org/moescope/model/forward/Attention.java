package org.moescope.model.forward;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.moescope.model.hook.Batch;
import org.moescope.tensor.Kernel;
import org.moescope.tensor.VectorExp;

/** One layer's self-attention: normalised hidden rows in, attention output rows out. */
interface Attention {
    /** in: [batch, hidden] normalised; out: [batch, hidden]. Writes this batch's keys/values to the cache. */
    void forward(State state, Batch batch, float[] in, float[] out);

    /** Per-position cache widths: {key, value}. */
    int[] cacheWidths();

    /**
     * softmax over scores[0, n) (optionally with a sink logit that takes part in the normalisation
     * but has no value, as gpt-oss's attention sinks), in place.
     */
    static void softmax(float[] scores, int n, float sink, boolean hasSink) { softmax(scores, 0, n, sink, hasSink); }

    /**
     * {@link #softmax(float[], int, float, boolean)} of scores[o, o + n), in vectors: the maximum
     * (order-free), each exp ({@link VectorExp#expShifted}: the same bits however the JIT has
     * compiled it), their sum lane by lane and then across the lanes in a fixed order, the scaling;
     * the last part masked, not scalar.
     */
    static void softmax(float[] scores, int o, int n, float sink, boolean hasSink) {
        VectorSpecies<Float> f = FloatVector.SPECIES_PREFERRED;
        FloatVector maxes = FloatVector.broadcast(f, hasSink ? sink : Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i += f.length()) {
            VectorMask<Float> in = f.indexInRange(i, n);
            maxes = maxes.lanewise(VectorOperators.MAX, FloatVector.fromArray(f, scores, o + i, in), in);
        }
        float max = maxes.reduceLanes(VectorOperators.MAX);
        VectorExp.expShifted(scores, o, n, max);
        FloatVector sums = FloatVector.zero(f);
        for (int i = 0; i < n; i += f.length()) sums = sums.add(FloatVector.fromArray(f, scores, o + i, f.indexInRange(i, n)));
        // in a fixed order: reduceLanes(ADD) leaves the order open, and C2's differs from its fallback's
        float sum = Kernel.sumPreferred(sums);
        if (hasSink) sum += (float) Math.exp(sink - max); // (Math.exp: the same in every JIT tier)
        float inverse = 1 / sum;
        for (int i = 0; i < n; i += f.length()) {
            VectorMask<Float> in = f.indexInRange(i, n);
            FloatVector.fromArray(f, scores, o + i, in).mul(inverse).intoArray(scores, o + i, in);
        }
    }
}
