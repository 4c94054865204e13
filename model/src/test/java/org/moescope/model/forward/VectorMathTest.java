package org.moescope.model.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** Attention's batched score and value loops against the one-row-at-a-time forms, and the gated activation against itself cut anywhere, bit for bit. */
class VectorMathTest {
    private static float[] gaussians(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * (i % 7 == 0 ? 1e4 : 1)); // sums whose rounding depends on the order
        return x;
    }

    @Test
    void scaledDotsGiveEachDotTimesTheScale() {
        for (int n : new int[] {64, 128, 40}) { // 40: no whole 16-lane rows, the one-by-one form
            int stride = n + 16;
            for (int count : new int[] {0, 1, 15, 16, 17, 37, 64}) {
                float[] q = gaussians(n + 3, n), k = gaussians(stride * count + 5, count), scores = new float[count];
                VectorMath.scaledDots(q, 3, k, 5, stride, n, count, 0.125f, scores);
                for (int j = 0; j < count; j++) {
                    assertThat(scores[j]).as("n %d, count %d, row %d", n, count, j).isEqualTo(VectorMath.dot(q, 3, k, 5 + j * stride, n) * 0.125f);
                }
            }
        }
    }

    @Test
    void fourQueriesAtOnceScoreAsOneAtATime() {
        for (int n : new int[] {64, 128, 40}) {
            int stride = n + 16, qStride = n + 3, cap = 80;
            for (int count : new int[] {4, 15, 16, 19, 37, 64}) {
                float[] q = gaussians(4 * qStride + 3, n), k = gaussians(stride * count + 5, count), scores = new float[4 * cap], one = new float[count];
                VectorMath.scaledDots4(q, 3, qStride, k, 5, stride, n, count, 0.125f, scores, cap);
                for (int i = 0; i < 4; i++) {
                    VectorMath.scaledDots(q, 3 + i * qStride, k, 5, stride, n, count, 0.125f, one);
                    for (int j = 0; j < count; j++) assertThat(scores[i * cap + j]).as("n %d, count %d, query %d, key %d", n, count, i, j).isEqualTo(one[j]);
                }
            }
        }
    }

    @Test
    void fourTokensWeightedSumsAddAsOneAtATime() {
        for (int n : new int[] {64, 128, 48}) {
            int stride = n + 16, cap = 50, yStride = n + 5;
            for (int count : new int[] {1, 9, 33}) {
                float[] w = gaussians(4 * cap, 1), v = gaussians(stride * (count + 3) + 7, 2);
                float[] actual = gaussians(4 * yStride + 4, 3), expected = new float[n];
                VectorMath.weightedSum4(w, cap, count, v, 7, stride, n, actual, 4, yStride);
                for (int i = 0; i < 4; i++) {
                    VectorMath.weightedSum(java.util.Arrays.copyOfRange(w, i * cap, i * cap + count + i), count + i, v, 7, stride, n, expected, 0);
                    assertThat(java.util.Arrays.copyOfRange(actual, 4 + i * yStride, 4 + i * yStride + n)).as("n %d, count %d, token %d", n, count, i).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void siluGluGivesEachValueTheSameBitsWhereverARangeIsCut() {
        float[] gate = gaussians(203, 4), up = gaussians(203, 5);
        float[] whole = gate.clone(), pieces = gate.clone();
        Mlp.siluGlu(whole, up, 0, 203);
        int[] cuts = {0, 5, 37, 38, 150, 203};
        for (int i = 0; i + 1 < cuts.length; i++) Mlp.siluGlu(pieces, up, cuts[i], cuts[i + 1]);
        assertThat(pieces).isEqualTo(whole);
        for (int i = 0; i < 203; i++) {
            double g = gate[i], expected = g / (1 + Math.exp(-g)) * up[i];
            assertThat((double) whole[i]).as("value %d", i).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5 * (1 + Math.abs(expected))));
        }
    }

    @Test
    void weightedSumAddsAsOneAxpyPerRow() {
        for (int n : new int[] {64, 128, 48}) {
            int stride = n + 16;
            for (int count : new int[] {0, 1, 9, 33}) {
                float[] w = gaussians(count, 1), v = gaussians(stride * count + 7, 2);
                float[] actual = gaussians(n + 4, 3), expected = actual.clone();
                VectorMath.weightedSum(w, count, v, 7, stride, n, actual, 4);
                java.util.Arrays.fill(expected, 4, 4 + n, 0f);
                for (int j = 0; j < count; j++) VectorMath.axpy(w[j], v, 7 + j * stride, expected, 4, n);
                assertThat(actual).as("n %d, count %d", n, count).isEqualTo(expected);
            }
        }
    }
}
