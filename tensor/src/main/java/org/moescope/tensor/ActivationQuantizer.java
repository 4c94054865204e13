package org.moescope.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * llama.cpp quantizes activations before most quantized dot products (ggml-cpu's vec_dot_type):
 * Q8_0 blocks of 32 for Q4_0/Q5_0/Q8_0/IQ4_NL/MXFP4 weights, Q8_1 for Q4_1/Q5_1, Q8_K blocks of 256
 * for K-quants. To compute what llama.cpp computes, the activations are rounded the same way here
 * and kept as float ("quantize, dequantize"): the dot product with them is then the integer dot
 * product llama.cpp takes, up to float summation order.
 */
public final class ActivationQuantizer {
    public enum Format { F32, F16, BF16, Q8_0, Q8_1, Q8_K }

    private ActivationQuantizer() {}

    /** Rounds x[o..o+n) in place as {@code format} would store it. */
    public static void roundTrip(Format format, float[] x, int o, int n) {
        switch (format) {
            case F32 -> { }
            case F16 -> { for (int i = o; i < o + n; i++) x[i] = Float.float16ToFloat(Float.floatToFloat16(x[i])); }
            case BF16 -> { for (int i = o; i < o + n; i++) x[i] = bf16(x[i]); }
            case Q8_0, Q8_1 -> {
                if (VECTOR) q8_0Vector(x, o, n);
                else q8_0(x, o, n, format == Format.Q8_1);
            }
            case Q8_K -> {
                if (VECTOR) q8KVector(x, o, n);
                else q8K(x, o, n);
            }
        }
    }

    /**
     * Rounds transposed activations (xt[{@link Matrix#LANES_AT} + c·tp + t] is token t's value c, for c &lt; columns and lanes
     * t &lt; tp, a multiple of the vector length) as {@link #roundTrip} rounds each token's row: the
     * same bits, with the tokens in the vector lanes, so that every block's scale is found for a
     * vector of tokens at once. Lanes past the tokens are rounded too (zeros stay zeros).
     */
    public static void roundTripTokens(Format format, float[] xt, int tp, int columns) {
        roundTripTokens(format, xt, tp, columns, 0, tp);
    }

    /** {@link #roundTripTokens} of lanes [laneFrom, laneTo) only (multiples of the vector length): one thread's part. */
    public static void roundTripTokens(Format format, float[] xt, int tp, int columns, int laneFrom, int laneTo) {
        switch (format) {
            case F32 -> { }
            case F16, BF16 -> { // value by value: the layout does not matter
                for (int c = 0; c < columns; c++) roundTrip(format, xt, Kernel.LANES_AT + c * tp + laneFrom, laneTo - laneFrom);
            }
            case Q8_0, Q8_1 -> { for (int t0 = laneFrom; t0 < laneTo; t0 += FP.length()) q8_0Tokens(xt, tp, Kernel.LANES_AT + t0, columns); }
            case Q8_K -> { for (int t0 = laneFrom; t0 < laneTo; t0 += FP.length()) q8KTokens(xt, tp, Kernel.LANES_AT + t0, columns); }
        }
    }

    /** {@link #q8_0} of the tokens in xt[c·tp + t0 ..] (a vector of lanes; blocks of 32 columns): the same bits. */
    private static void q8_0Tokens(float[] xt, int tp, int t0, int columns) {
        for (int b = 0; b < columns; b += 32) {
            IntVector m = IntVector.zero(IP);
            for (int c = b, at = b * tp + t0; c < b + 32; c++, at += tp) m = m.max(FloatVector.fromArray(FP, xt, at).reinterpretAsInts().and(0x7fffffff));
            FloatVector amax = m.reinterpretAsFloats();
            FloatVector dv = f16RoundTrip(amax.div(127f));
            FloatVector idv = FloatVector.broadcast(FP, 127f).div(amax).blend(0f, amax.eq(0f));
            for (int c = b, at = b * tp + t0; c < b + 32; c++, at += tp) {
                FloatVector v = FloatVector.fromArray(FP, xt, at).mul(idv);
                FloatVector q = v.add(MAGIC).sub(MAGIC).reinterpretAsInts().or(v.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
                q.mul(dv).intoArray(xt, at);
            }
        }
    }

    /**
     * Float.float16ToFloat(Float.floatToFloat16(v)) for non-negative v, in vectors: the mantissa
     * rounded half to even to f16's 10 bits (normal range), or to a multiple of 2^-24 (f16's
     * subnormals, below 2^-14: adding 0.75, whose float ulp is 2^-24, rounds there); +∞ from 65520.
     */
    private static FloatVector f16RoundTrip(FloatVector v) {
        IntVector bits = v.reinterpretAsInts();
        FloatVector normal = bits.add(bits.lanewise(VectorOperators.LSHR, 13).and(1).add(0xFFF)).and(~0x1FFF).reinterpretAsFloats();
        FloatVector subnormal = v.add(0.75f).sub(0.75f);
        return normal.blend(subnormal, v.lt(0x1p-14f)).blend(Float.POSITIVE_INFINITY, v.compare(VectorOperators.GE, 65520f));
    }

    /** {@link #q8K} of the tokens in xt[c·tp + t0 ..] (a vector of lanes; blocks of 256 columns): the same bits. */
    private static void q8KTokens(float[] xt, int tp, int t0, int columns) {
        for (int b = 0; b < columns; b += 256) {
            // per lane the first value of largest magnitude, with its sign, as q8K's scan finds it
            FloatVector amax = FloatVector.zero(FP), max = FloatVector.zero(FP);
            for (int c = b, at = b * tp + t0; c < b + 256; c++, at += tp) {
                FloatVector v = FloatVector.fromArray(FP, xt, at);
                VectorMask<Float> larger = v.abs().compare(VectorOperators.GT, amax);
                amax = amax.blend(v.abs(), larger);
                max = max.blend(v, larger);
            }
            VectorMask<Float> zero = amax.eq(0f); // an all-zero block: zeros
            FloatVector isv = FloatVector.broadcast(FP, -127f).div(max).blend(0f, zero);
            FloatVector dv = FloatVector.broadcast(FP, 1f).div(isv).blend(0f, zero);
            for (int c = b, at = b * tp + t0; c < b + 256; c++, at += tp) {
                FloatVector.fromArray(FP, xt, at).mul(isv).add(MAGIC).sub(MAGIC).min(127f).mul(dv).intoArray(xt, at);
            }
        }
    }

    /** GGML_FP32_TO_BF16: round to nearest even, NaN kept quiet. */
    static float bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7fffffff) > 0x7f800000) return Float.intBitsToFloat((bits | 0x00400000) & 0xffff0000);
        bits = (bits + (0x7fff + ((bits >>> 16) & 1))) & 0xffff0000;
        return Float.intBitsToFloat(bits);
    }

    /**
     * quantize_row_q8_0 as the x86 AVX2 path does it (ggml-cpu/arch/x86/quants.c): d = amax/127 kept
     * as f16, q = round-half-even(x · 127/amax). Q8_1 (quantize_row_q8_1) differs only in also storing
     * the block sum, which does not change the values (its d is f16 too).
     */
    static void q8_0(float[] x, int o, int n, boolean q81) {
        for (int b = o; b < o + n; b += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b + j]));
            float d = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
            float id = amax != 0 ? 127f / amax : 0;
            for (int j = 0; j < 32; j++) x[b + j] = (float) Math.rint(x[b + j] * id) * d;
        }
    }

    /**
     * quantize_row_q8_K_ref: per 256, the value of largest magnitude (signed) sets iscale = −127/max,
     * q = nearest_int(iscale·x) (round half even) capped at 127, d = 1/iscale (float32).
     */
    static void q8K(float[] x, int o, int n) {
        for (int b = o; b < o + n; b += 256) {
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++) {
                float ax = Math.abs(x[b + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[b + j];
                }
            }
            if (amax == 0) {
                java.util.Arrays.fill(x, b, b + 256, 0f);
                continue;
            }
            float iscale = -127f / max;
            float d = 1 / iscale;
            for (int j = 0; j < 256; j++) x[b + j] = Math.min(127, (int) Math.rint(iscale * x[b + j])) * d;
        }
    }

    private static final VectorSpecies<Float> FP = Kernel.FP;
    private static final VectorSpecies<Integer> IP = Kernel.IP;
    /** Whether the vector forms apply: whole vectors per block of 32. */
    static final boolean VECTOR = FP.length() >= 8 && 32 % FP.length() == 0;
    /**
     * 1.5·2^23: for |v| &lt; 2^22, (v + MAGIC) − MAGIC is v rounded to the nearest integer, ties to
     * even (the float add rounds at a unit in the last place of 1), which is Math.rint, except that a
     * value rounded to zero comes out +0.
     */
    private static final float MAGIC = 12582912f;

    /**
     * The largest |x[o + i]| for i &lt; n (whole vectors), taken on the bits: without the sign bit,
     * floats order as their bits do as ints, and an int max reduction is a few instructions where
     * a float one (Math.max's rules for −0 and NaN) is a long chain of compares and blends.
     */
    private static float absMax(float[] x, int o, int n) {
        IntVector m = IntVector.zero(IP);
        for (int j = 0; j < n; j += FP.length()) m = m.max(FloatVector.fromArray(FP, x, o + j).reinterpretAsInts().and(0x7fffffff));
        return Float.intBitsToFloat(m.reduceLanes(VectorOperators.MAX));
    }

    /** {@link #q8_0} with vectors (the same bits): its |q| ≤ 127 are far inside MAGIC's range. */
    static void q8_0Vector(float[] x, int o, int n) {
        int lanes = FP.length();
        for (int b = o; b < o + n; b += 32) {
            float amax = absMax(x, b, 32);
            float d = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
            float id = amax != 0 ? 127f / amax : 0;
            for (int j = 0; j < 32; j += lanes) {
                FloatVector v = FloatVector.fromArray(FP, x, b + j).mul(id);
                // rint keeps the sign of a value rounded to zero: −0·d, as the scalar form gives
                FloatVector q = v.add(MAGIC).sub(MAGIC).reinterpretAsInts().or(v.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
                q.mul(d).intoArray(x, b + j);
            }
        }
    }

    /** {@link #q8K} with vectors (the same bits; q, an int there, is +0 when it rounds to zero, as MAGIC leaves it). */
    static void q8KVector(float[] x, int o, int n) {
        int lanes = FP.length();
        for (int b = o; b < o + n; b += 256) {
            float amax = absMax(x, b, 256);
            if (amax == 0) {
                java.util.Arrays.fill(x, b, b + 256, 0f);
                continue;
            }
            float max = 0; // the first value of largest magnitude, with its sign
            for (int j = 0; j < 256; j += lanes) {
                VectorMask<Float> at = FloatVector.fromArray(FP, x, b + j).abs().eq(amax);
                if (at.anyTrue()) {
                    max = x[b + j + at.firstTrue()];
                    break;
                }
            }
            float iscale = -127f / max;
            float d = 1 / iscale;
            for (int j = 0; j < 256; j += lanes) {
                FloatVector v = FloatVector.fromArray(FP, x, b + j).mul(iscale);
                v.add(MAGIC).sub(MAGIC).min(127f).mul(d).intoArray(x, b + j);
            }
        }
    }
}
