package org.moescope.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import org.moescope.format.TensorType;

/**
 * The reference (scalar) decoding of every block type, bit-exact with llama.cpp's
 * {@code dequantize_row_*} (ggml/src/ggml-quants.c) and the block layouts of ggml-common.h. These
 * are the documentation of the formats; the fast kernels are tested against them.
 */
public final class Blocks {
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** IQ4_NL's non-linear 4-bit grid (kvalues_iq4nl). */
    static final byte[] IQ4NL = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    /** MXFP4's E2M1 values, doubled (kvalues_mxfp4); the E8M0 scale is halved to compensate. */
    static final byte[] MXFP4 = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    private Blocks() {}

    static float half(MemorySegment m, long at) { return Float.float16ToFloat(m.get(U16, at)); }

    /**
     * Every f16 value as a float, indexed by its 16 bits: {@link #half} as one L1 load. The Q8_0
     * decode kernels read their block scales through it: converting them ({@code vcvtph2ps}, moves
     * and a broadcast on x86) held the eight-row kernel to 55–60 % of its speed without scales
     * (docs/PERFORMANCE.md, "Sixth session of 2026-12-04").
     */
    static final float[] HALVES = new float[1 << 16];

    static {
        for (int h = 0; h < HALVES.length; h++) HALVES[h] = Float.float16ToFloat((short) h);
    }

    static int u8(MemorySegment m, long at) { return m.get(ValueLayout.JAVA_BYTE, at) & 0xFF; }

    static int i8(MemorySegment m, long at) { return m.get(ValueLayout.JAVA_BYTE, at); }

    /** ggml_e8m0_to_fp32_half: 2^(e−128), with the two denormal cases. */
    static float e8m0Half(int e) {
        int bits = e < 2 ? 0x00200000 << e : (e - 1) << 23;
        return Float.intBitsToFloat(bits);
    }

    /**
     * get_scale_min_k4 for all eight sub-blocks of a Q4_K/Q5_K block at once, from the block's first
     * 16 bytes read as two little-endian longs (lo: d, dmin, bytes 4-7; hi: bytes 8-15): the 6-bit
     * scales, byte j = sub-block j (ggml's kmask1-3 arithmetic, four sub-blocks to an int).
     */
    static long scalesK4(long lo, long hi) {
        int bytes4 = (int) (lo >>> 32), bytes12 = (int) (hi >>> 32);
        return (bytes4 & 0x3F3F3F3FL) | (long) ((bytes12 & 0x0F0F0F0F) | ((bytes4 >>> 2) & 0x30303030)) << 32;
    }

    /** The eight 6-bit mins, as {@link #scalesK4} gives the scales. */
    static long minsK4(long lo, long hi) {
        int bytes8 = (int) hi, bytes12 = (int) (hi >>> 32);
        return (bytes8 & 0x3F3F3F3FL) | (long) (((bytes12 >>> 4) & 0x0F0F0F0F) | ((bytes8 >>> 2) & 0x30303030)) << 32;
    }

    /** Byte j of packed bytes (the scale or min of sub-block j). */
    static int byteK4(long packed, int j) { return (int) (packed >>> (8 * j)) & 0xFF; }

    /**
     * Q3_K's 16 6-bit scales (as llama.cpp unpacks them with kmask1 = 0x03030303 and kmask2 =
     * 0x0f0f0f0f) from the 12 packed bytes read as three little-endian ints: scales 0-7 as the bytes
     * of one long ({@code high} false), 8-15 of the other; read one with {@link #scaleK3}.
     */
    static long scalesK3(int a0, int a1, int tmp, boolean high) {
        int w0, w1;
        if (!high) {
            w0 = (a0 & 0x0f0f0f0f) | ((tmp & 0x03030303) << 4);
            w1 = (a1 & 0x0f0f0f0f) | (((tmp >>> 2) & 0x03030303) << 4);
        } else {
            w0 = ((a0 >>> 4) & 0x0f0f0f0f) | (((tmp >>> 4) & 0x03030303) << 4);
            w1 = ((a1 >>> 4) & 0x0f0f0f0f) | (((tmp >>> 6) & 0x03030303) << 4);
        }
        return (w0 & 0xFFFFFFFFL) | (long) w1 << 32;
    }

    /** Scale i of 16 from {@link #scalesK3}'s two longs. */
    static int scaleK3(long low, long high, int i) { return (byte) ((i < 8 ? low : high) >>> (8 * (i & 7))); }

    /** Decodes {@code n} elements (whole blocks) of {@code type} starting at byte {@code at} into out[o..]. */
    public static void dequantize(TensorType type, MemorySegment m, long at, float[] out, int o, int n) {
        int blocks = n / type.blockSize();
        int bb = type.blockBytes();
        for (int b = 0; b < blocks; b++) block(type, m, at + (long) b * bb, out, o + b * type.blockSize());
    }

    /** One block. */
    static void block(TensorType type, MemorySegment m, long at, float[] y, int o) {
        switch (type) {
            case F32 -> y[o] = m.get(F32, at);
            case F16 -> y[o] = half(m, at);
            case BF16 -> y[o] = Float.intBitsToFloat((m.get(U16, at) & 0xFFFF) << 16);
            case Q8_0 -> {
                float d = half(m, at);
                for (int j = 0; j < 32; j++) y[o + j] = i8(m, at + 2 + j) * d;
            }
            case Q4_0 -> {
                float d = half(m, at);
                for (int j = 0; j < 16; j++) {
                    int q = u8(m, at + 2 + j);
                    y[o + j] = ((q & 0xF) - 8) * d;
                    y[o + j + 16] = ((q >> 4) - 8) * d;
                }
            }
            case Q4_1 -> {
                float d = half(m, at), min = half(m, at + 2);
                for (int j = 0; j < 16; j++) {
                    int q = u8(m, at + 4 + j);
                    y[o + j] = (q & 0xF) * d + min;
                    y[o + j + 16] = (q >> 4) * d + min;
                }
            }
            case Q5_0 -> {
                float d = half(m, at);
                int qh = m.get(I32, at + 2);
                for (int j = 0; j < 16; j++) {
                    int q = u8(m, at + 6 + j);
                    int h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
                    y[o + j] = (((q & 0xF) | h0) - 16) * d;
                    y[o + j + 16] = (((q >> 4) | h1) - 16) * d;
                }
            }
            case Q5_1 -> {
                float d = half(m, at), min = half(m, at + 2);
                int qh = m.get(I32, at + 4);
                for (int j = 0; j < 16; j++) {
                    int q = u8(m, at + 8 + j);
                    int h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
                    y[o + j] = ((q & 0xF) | h0) * d + min;
                    y[o + j + 16] = ((q >> 4) | h1) * d + min;
                }
            }
            case IQ4_NL -> {
                float d = half(m, at);
                for (int j = 0; j < 16; j++) {
                    int q = u8(m, at + 2 + j);
                    y[o + j] = d * IQ4NL[q & 0xF];
                    y[o + j + 16] = d * IQ4NL[q >> 4];
                }
            }
            case MXFP4 -> {
                float d = e8m0Half(u8(m, at));
                for (int j = 0; j < 16; j++) {
                    int q = u8(m, at + 1 + j);
                    y[o + j] = MXFP4[q & 0xF] * d;
                    y[o + j + 16] = MXFP4[q >> 4] * d;
                }
            }
            case Q2_K -> q2k(m, at, y, o);
            case Q3_K -> q3k(m, at, y, o);
            case Q4_K -> {
                float d = half(m, at), dmin = half(m, at + 2);
                long lo = m.get(U64, at), hi = m.get(U64, at + 8), scales = scalesK4(lo, hi), mins = minsK4(lo, hi);
                long q = at + 16;
                for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
                    float d1 = d * byteK4(scales, is), m1 = dmin * byteK4(mins, is);
                    float d2 = d * byteK4(scales, is + 1), m2 = dmin * byteK4(mins, is + 1);
                    for (int l = 0; l < 32; l++) y[o + j + l] = d1 * (u8(m, q + l) & 0xF) - m1;
                    for (int l = 0; l < 32; l++) y[o + j + 32 + l] = d2 * (u8(m, q + l) >> 4) - m2;
                }
            }
            case Q5_K -> {
                float d = half(m, at), dmin = half(m, at + 2);
                long lo = m.get(U64, at), hi = m.get(U64, at + 8), scales = scalesK4(lo, hi), mins = minsK4(lo, hi);
                long qh = at + 16, ql = at + 48;
                int u1 = 1, u2 = 2;
                for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
                    float d1 = d * byteK4(scales, is), m1 = dmin * byteK4(mins, is);
                    float d2 = d * byteK4(scales, is + 1), m2 = dmin * byteK4(mins, is + 1);
                    for (int l = 0; l < 32; l++) y[o + j + l] = d1 * ((u8(m, ql + l) & 0xF) + ((u8(m, qh + l) & u1) != 0 ? 16 : 0)) - m1;
                    for (int l = 0; l < 32; l++) y[o + j + 32 + l] = d2 * ((u8(m, ql + l) >> 4) + ((u8(m, qh + l) & u2) != 0 ? 16 : 0)) - m2;
                }
            }
            case Q6_K -> {
                float d = half(m, at + 208);
                long ql = at, qh = at + 128, sc = at + 192;
                for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
                    for (int l = 0; l < 32; l++) {
                        int is = l / 16;
                        int h = u8(m, qh + l);
                        int q1 = ((u8(m, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                        int q2 = ((u8(m, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                        int q3 = ((u8(m, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                        int q4 = ((u8(m, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                        y[o + n + l] = d * i8(m, sc + is) * q1;
                        y[o + n + l + 32] = d * i8(m, sc + is + 2) * q2;
                        y[o + n + l + 64] = d * i8(m, sc + is + 4) * q3;
                        y[o + n + l + 96] = d * i8(m, sc + is + 6) * q4;
                    }
                }
            }
            case IQ4_XS -> {
                float d = half(m, at);
                int scalesH = m.get(U16, at + 2) & 0xFFFF;
                long scalesL = at + 4, qs = at + 8;
                for (int ib = 0; ib < 8; ib++, qs += 16) {
                    int ls = ((u8(m, scalesL + ib / 2) >> (4 * (ib % 2))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4);
                    float dl = d * (ls - 32);
                    for (int j = 0; j < 16; j++) {
                        int q = u8(m, qs + j);
                        y[o + ib * 32 + j] = dl * IQ4NL[q & 0xF];
                        y[o + ib * 32 + j + 16] = dl * IQ4NL[q >> 4];
                    }
                }
            }
            case F8_E4M3 -> y[o] = Fp8.e4m3(u8(m, at));
            default -> throw new UnsupportedOperationException("no decoder for " + type);
        }
    }

    private static void q2k(MemorySegment m, long at, float[] y, int o) {
        long scales = at, q = at + 16;
        float d = half(m, at + 80), min = half(m, at + 82);
        int is = 0, k = o;
        for (int n = 0; n < 256; n += 128, q += 32) {
            for (int j = 0, shift = 0; j < 4; j++, shift += 2) {
                int sc = u8(m, scales + is++);
                float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                for (int l = 0; l < 16; l++) y[k++] = dl * ((u8(m, q + l) >> shift) & 3) - ml;
                sc = u8(m, scales + is++);
                dl = d * (sc & 0xF);
                ml = min * (sc >> 4);
                for (int l = 0; l < 16; l++) y[k++] = dl * ((u8(m, q + l + 16) >> shift) & 3) - ml;
            }
        }
    }

    private static void q3k(MemorySegment m, long at, float[] y, int o) {
        long hm = at, q = at + 32, sc = at + 96;
        float dAll = half(m, at + 108);
        int a0 = m.get(I32, sc), a1 = m.get(I32, sc + 4), tmp = m.get(I32, sc + 8);
        long low = scalesK3(a0, a1, tmp, false), high = scalesK3(a0, a1, tmp, true);
        int is = 0, k = o, bit = 1;
        for (int n = 0; n < 256; n += 128, q += 32) {
            for (int j = 0, shift = 0; j < 4; j++, shift += 2, bit <<= 1) {
                float dl = dAll * (scaleK3(low, high, is++) - 32);
                for (int l = 0; l < 16; l++) y[k++] = dl * (((u8(m, q + l) >> shift) & 3) - ((u8(m, hm + l) & bit) != 0 ? 0 : 4));
                dl = dAll * (scaleK3(low, high, is++) - 32);
                for (int l = 0; l < 16; l++) y[k++] = dl * (((u8(m, q + l + 16) >> shift) & 3) - ((u8(m, hm + l + 16) & bit) != 0 ? 0 : 4));
            }
        }
    }
}
