package org.moescope.tensor;

/**
 * float8 e4m3fn (OCP FP8, as torch.float8_e4m3fn): 1 sign, 4 exponent (bias 7), 3 mantissa bits;
 * no infinities, S.1111.111 is NaN; subnormals at exponent 0. DeepSeek-V3's released weights use it
 * with one float32 scale per 128×128 block ({@code weight_scale_inv}: value = fp8 × scale).
 */
public final class Fp8 {
    private static final float[] E4M3 = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            int sign = b >> 7, exponent = (b >> 3) & 0xF, mantissa = b & 7;
            float v;
            if (exponent == 0xF && mantissa == 7) v = Float.NaN;
            else if (exponent == 0) v = mantissa / 8f * 0x1p-6f;
            else v = (1 + mantissa / 8f) * (float) Math.pow(2, exponent - 7);
            E4M3[b] = sign == 1 ? -v : v;
        }
    }

    private Fp8() {}

    public static float e4m3(int bits) { return E4M3[bits & 0xFF]; }
}
