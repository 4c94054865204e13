package org.moescope.model.forward;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import org.moescope.tensor.Kernel;

/** The few float32 vector operations of attention and norms, with the Vector API (any SIMD width). */
final class VectorMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {}

    /** Σ a[ao+i]·b[bo+i] for i < n. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float sum = 0;
        if (n >= F.length()) {
            FloatVector acc = FloatVector.zero(F);
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
            }
            sum = Kernel.sumPreferred(acc);
        }
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /** y[yo+i] += alpha·x[xo+i] for i < n. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xo + i).fma(a, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    /**
     * scores[j] = dot(q[qo ..], k[ko + j·stride ..], n) · scale for j &lt; count (attention's scores):
     * the same bits as {@link #dot}, but where the vectors are 16 lanes wide and n a multiple of
     * 16, sixteen rows' accumulators are reduced together ({@link Kernel#sums16}) instead of each
     * waiting on its own reduction.
     */
    static void scaledDots(float[] q, int qo, float[] k, int ko, int stride, int n, int count, float scale, float[] scores) {
        int j = 0;
        if (F.length() == 16 && n % 16 == 0) {
            float[] lanes = LANES.get();
            for (; j + 16 <= count; j += 16) {
                for (int r = 0; r < 16; r++) {
                    int at = ko + (j + r) * stride;
                    FloatVector acc = FloatVector.zero(F);
                    for (int i = 0; i < n; i += 16) acc = FloatVector.fromArray(F, q, qo + i).fma(FloatVector.fromArray(F, k, at + i), acc);
                    acc.intoArray(lanes, 16 * r);
                }
                Kernel.sums16(lanes, scores, j);
                for (int r = 0; r < 16; r++) scores[j + r] *= scale;
            }
        }
        for (; j < count; j++) scores[j] = dot(q, qo, k, ko + j * stride, n) * scale;
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[Kernel.TILE_LANES]);

    /**
     * y[yo + i] = Σ_j w[j]·v[vo + j·stride + i] for i &lt; n, j &lt; count, summed over j in order:
     * the same bits as zeroing y and an {@link #axpy} per j, but where n is a multiple of 64 (16-lane
     * vectors) the 64 sums of a stretch stay in four registers across all j instead of being
     * loaded and stored for each.
     */
    static void weightedSum(float[] w, int count, float[] v, int vo, int stride, int n, float[] y, int yo) {
        if (F.length() != 16 || n % 64 != 0) {
            java.util.Arrays.fill(y, yo, yo + n, 0f);
            for (int j = 0; j < count; j++) axpy(w[j], v, vo + j * stride, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i += 64) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int j = 0, at = vo + i; j < count; j++, at += stride) {
                FloatVector c = FloatVector.broadcast(F, w[j]);
                a0 = FloatVector.fromArray(F, v, at).fma(c, a0);
                a1 = FloatVector.fromArray(F, v, at + 16).fma(c, a1);
                a2 = FloatVector.fromArray(F, v, at + 32).fma(c, a2);
                a3 = FloatVector.fromArray(F, v, at + 48).fma(c, a3);
            }
            a0.intoArray(y, yo + i);
            a1.intoArray(y, yo + i + 16);
            a2.intoArray(y, yo + i + 32);
            a3.intoArray(y, yo + i + 48);
        }
    }

    /** Σ x[xo+i]² for i < n. */
    static float sumOfSquares(float[] x, int xo, int n) { return dot(x, xo, x, xo, n); }
}
