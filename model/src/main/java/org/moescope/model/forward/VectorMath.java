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
        weightedSum(w, 0, count, v, vo, stride, n, y, yo);
    }

    /** {@link #weightedSum} with the weights at w[wo ..]. */
    static void weightedSum(float[] w, int wo, int count, float[] v, int vo, int stride, int n, float[] y, int yo) {
        if (F.length() != 16 || n % 64 != 0) {
            java.util.Arrays.fill(y, yo, yo + n, 0f);
            for (int j = 0; j < count; j++) axpy(w[wo + j], v, vo + j * stride, y, yo, n);
            return;
        }
        for (int i = 0; i < n; i += 64) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int j = 0, at = vo + i; j < count; j++, at += stride) {
                FloatVector c = FloatVector.broadcast(F, w[wo + j]);
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

    /**
     * {@link #scaledDots} for four queries at once (four consecutive tokens of one sequence): query
     * i at q[qo + i·qStride ..] gets scores[i·cap + j] for j &lt; count (count the last token's; the
     * earlier tokens' extra scores are left for their callers to ignore). Each key vector loaded
     * serves four queries; every score has the bits {@link #scaledDots} gives it.
     */
    static void scaledDots4(float[] q, int qo, int qStride, float[] k, int ko, int stride, int n, int count, float scale, float[] scores, int cap) {
        int j = 0;
        if (F.length() == 16 && n % 16 == 0) {
            float[][] lanes = LANES4.get();
            for (; j + 16 <= count; j += 16) {
                for (int r = 0; r < 16; r++) {
                    int at = ko + (j + r) * stride;
                    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                    for (int i = 0; i < n; i += 16) {
                        FloatVector key = FloatVector.fromArray(F, k, at + i);
                        a0 = FloatVector.fromArray(F, q, qo + i).fma(key, a0);
                        a1 = FloatVector.fromArray(F, q, qo + qStride + i).fma(key, a1);
                        a2 = FloatVector.fromArray(F, q, qo + 2 * qStride + i).fma(key, a2);
                        a3 = FloatVector.fromArray(F, q, qo + 3 * qStride + i).fma(key, a3);
                    }
                    a0.intoArray(lanes[0], 16 * r);
                    a1.intoArray(lanes[1], 16 * r);
                    a2.intoArray(lanes[2], 16 * r);
                    a3.intoArray(lanes[3], 16 * r);
                }
                for (int i = 0; i < 4; i++) {
                    Kernel.sums16(lanes[i], scores, i * cap + j);
                    for (int r = 0; r < 16; r++) scores[i * cap + j + r] *= scale;
                }
            }
        }
        for (; j < count; j++) {
            for (int i = 0; i < 4; i++) scores[i * cap + j] = dot(q, qo + i * qStride, k, ko + j * stride, n) * scale;
        }
    }

    private static final ThreadLocal<float[][]> LANES4 = ThreadLocal.withInitial(() -> new float[4][Kernel.TILE_LANES]);

    /**
     * {@link #weightedSum} for four consecutive tokens of one sequence: token i has weights
     * w[i·cap + j] for j &lt; count + i and its sum at y[yo + i·yStride ..]. The positions all four
     * share go through sixteen registers, each value vector loaded once for four tokens; the later
     * tokens' last positions are added on as {@link #axpy}s. Each output has the bits
     * {@link #weightedSum} gives it.
     */
    static void weightedSum4(float[] w, int cap, int count, float[] v, int vo, int stride, int n, float[] y, int yo, int yStride) {
        if (F.length() != 16 || n % 64 != 0) {
            for (int i = 0; i < 4; i++) weightedSum(w, i * cap, count + i, v, vo, stride, n, y, yo + i * yStride);
            return;
        }
        for (int s = 0; s < n; s += 64) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
            FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), d2 = FloatVector.zero(F), d3 = FloatVector.zero(F);
            for (int j = 0, at = vo + s; j < count; j++, at += stride) {
                FloatVector v0 = FloatVector.fromArray(F, v, at), v1 = FloatVector.fromArray(F, v, at + 16);
                FloatVector v2 = FloatVector.fromArray(F, v, at + 32), v3 = FloatVector.fromArray(F, v, at + 48);
                FloatVector wa = FloatVector.broadcast(F, w[j]), wb = FloatVector.broadcast(F, w[cap + j]);
                FloatVector wc = FloatVector.broadcast(F, w[2 * cap + j]), wd = FloatVector.broadcast(F, w[3 * cap + j]);
                a0 = v0.fma(wa, a0); a1 = v1.fma(wa, a1); a2 = v2.fma(wa, a2); a3 = v3.fma(wa, a3);
                b0 = v0.fma(wb, b0); b1 = v1.fma(wb, b1); b2 = v2.fma(wb, b2); b3 = v3.fma(wb, b3);
                c0 = v0.fma(wc, c0); c1 = v1.fma(wc, c1); c2 = v2.fma(wc, c2); c3 = v3.fma(wc, c3);
                d0 = v0.fma(wd, d0); d1 = v1.fma(wd, d1); d2 = v2.fma(wd, d2); d3 = v3.fma(wd, d3);
            }
            int ya = yo + s, yb = ya + yStride, yc = yb + yStride, yd = yc + yStride;
            a0.intoArray(y, ya); a1.intoArray(y, ya + 16); a2.intoArray(y, ya + 32); a3.intoArray(y, ya + 48);
            b0.intoArray(y, yb); b1.intoArray(y, yb + 16); b2.intoArray(y, yb + 32); b3.intoArray(y, yb + 48);
            c0.intoArray(y, yc); c1.intoArray(y, yc + 16); c2.intoArray(y, yc + 32); c3.intoArray(y, yc + 48);
            d0.intoArray(y, yd); d1.intoArray(y, yd + 16); d2.intoArray(y, yd + 32); d3.intoArray(y, yd + 48);
        }
        for (int i = 1; i < 4; i++) {
            for (int j = count; j < count + i; j++) axpy(w[i * cap + j], v, vo + j * stride, y, yo + i * yStride, n);
        }
    }

    /** Σ x[xo+i]² for i < n. */
    static float sumOfSquares(float[] x, int xo, int n) { return dot(x, xo, x, xo, n); }
}
