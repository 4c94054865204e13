package org.moescope.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The vector forms of the activation rounding against the scalar forms, bit for bit. */
class ActivationQuantizerTest {
    /** Blocks that reach every branch: ties at .5, values that round to ±0, zero blocks, ±max pairs. */
    private static float[] awkward(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int b = 0; b < n; b += 32) {
            switch (r.nextInt(6)) {
                case 0 -> { } // all zeros
                case 1 -> { // amax 127: the scale is 1 and halves are ties
                    for (int j = 0; j < 32; j++) x[b + j] = (r.nextInt(254) - 127) / 2f;
                    x[b + r.nextInt(32)] = r.nextBoolean() ? 127 : -127;
                }
                case 2 -> { // one large value, the rest small enough to round to zero (negative ones to −0)
                    for (int j = 0; j < 32; j++) x[b + j] = (float) (r.nextGaussian() * 1e-4);
                    x[b + r.nextInt(32)] = (float) (r.nextGaussian() * 100);
                }
                case 3 -> { // the largest magnitude twice, with both signs
                    for (int j = 0; j < 32; j++) x[b + j] = (float) r.nextGaussian();
                    int i = r.nextInt(32), k = r.nextInt(32);
                    x[b + i] = 5;
                    x[b + k] = -5;
                }
                default -> {
                    double scale = Math.pow(10, r.nextInt(-6, 6));
                    for (int j = 0; j < 32; j++) x[b + j] = (float) (r.nextGaussian() * scale);
                }
            }
        }
        return x;
    }

    @Test
    void q8_0VectorRoundsAsTheScalarForm() {
        if (!ActivationQuantizer.VECTOR) return; // the scalar form is the one in use
        for (long seed = 0; seed < 50; seed++) {
            float[] expected = awkward(1024, seed), actual = expected.clone();
            ActivationQuantizer.q8_0(expected, 0, expected.length, false);
            ActivationQuantizer.q8_0Vector(actual, 0, actual.length);
            assertBits(actual, expected, seed);
        }
    }

    @Test
    void q8KVectorRoundsAsTheScalarForm() {
        if (!ActivationQuantizer.VECTOR) return;
        for (long seed = 0; seed < 50; seed++) {
            float[] expected = awkward(1024, seed), actual = expected.clone();
            ActivationQuantizer.q8K(expected, 0, expected.length);
            ActivationQuantizer.q8KVector(actual, 0, actual.length);
            assertBits(actual, expected, seed);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(ActivationQuantizer.Format.class)
    void tokensInLanesRoundAsEachRow(ActivationQuantizer.Format format) {
        // 21 tokens of 512 values in 32 lanes (16 and 5 of the next 16): each token's row rounded
        // alone against all of them rounded transposed; the padded lanes hold zeros and keep them
        int tokens = 21, tp = 32, columns = 512;
        for (long seed = 0; seed < 10; seed++) {
            float[] rows = awkward(tokens * columns, seed), xt = new float[Matrix.LANES_AT + columns * tp];
            for (int t = 0; t < tokens; t++) for (int c = 0; c < columns; c++) xt[Matrix.LANES_AT + c * tp + t] = rows[t * columns + c];
            for (int t = 0; t < tokens; t++) ActivationQuantizer.roundTrip(format, rows, t * columns, columns);
            ActivationQuantizer.roundTripTokens(format, xt, tp, columns);
            float[] back = new float[tokens * columns];
            for (int t = 0; t < tokens; t++) for (int c = 0; c < columns; c++) back[t * columns + c] = xt[Matrix.LANES_AT + c * tp + t];
            assertBits(back, rows, seed);
            for (int c = 0; c < columns; c++) for (int t = tokens; t < tp; t++) assertThat(xt[Matrix.LANES_AT + c * tp + t]).isZero();
        }
    }

    @Test
    void tokensInLanesTakeScalesAtTheEdgesOfHalfPrecision() {
        // block maxima whose scale (max / 127) sits where f16 changes: its subnormals and their
        // ties, the smallest normal, ties of the 10-bit mantissa (to even: down and up), the largest
        // finite value and the overflow to infinity
        float[] scales = {0x1p-24f, 0x1.8p-24f, 0x1p-25f, 0x1.7p-20f, 0x1p-14f, 0x1.ffcp-15f, 1.0009766f, 0x1.002p0f, 0x1.006p0f, 65504f, 65519.99f, 65520f, 1e6f, 3.3e-9f};
        int tokens = 16, tp = 16, columns = 32 * scales.length;
        float[] rows = new float[tokens * columns], xt = new float[Matrix.LANES_AT + columns * tp];
        SplittableRandom r = new SplittableRandom(7);
        for (int t = 0; t < tokens; t++) {
            for (int b = 0; b < scales.length; b++) {
                float amax = scales[(b + t) % scales.length] * 127f;
                for (int j = 0; j < 32; j++) rows[t * columns + 32 * b + j] = (float) (r.nextDouble(-1, 1) * amax);
                rows[t * columns + 32 * b + r.nextInt(32)] = r.nextBoolean() ? amax : -amax;
            }
        }
        for (int t = 0; t < tokens; t++) for (int c = 0; c < columns; c++) xt[Matrix.LANES_AT + c * tp + t] = rows[t * columns + c];
        for (int t = 0; t < tokens; t++) ActivationQuantizer.roundTrip(ActivationQuantizer.Format.Q8_0, rows, t * columns, columns);
        ActivationQuantizer.roundTripTokens(ActivationQuantizer.Format.Q8_0, xt, tp, columns);
        float[] back = new float[tokens * columns];
        for (int t = 0; t < tokens; t++) for (int c = 0; c < columns; c++) back[t * columns + c] = xt[Matrix.LANES_AT + c * tp + t];
        assertBits(back, rows, 0);
    }

    private static void assertBits(float[] actual, float[] expected, long seed) {
        for (int i = 0; i < expected.length; i++) {
            assertThat(Float.floatToRawIntBits(actual[i])).as("value %d, seed %d: %s against %s", i, seed, actual[i], expected[i])
                    .isEqualTo(Float.floatToRawIntBits(expected[i]));
        }
    }
}
