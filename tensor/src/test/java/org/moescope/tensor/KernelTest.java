package org.moescope.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.moescope.format.TensorType;

/** The fused kernels against the scalar reference, on random blocks of every type. */
class KernelTest {
    /** Random but well-formed blocks: f16 scales in a sane range, the rest random bytes. */
    static MemorySegment randomRows(TensorType type, int rows, int columns, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long bytes = type.bytesFor((long) rows * columns);
        byte[] data = new byte[(int) bytes];
        for (int i = 0; i < data.length; i++) data[i] = (byte) r.nextInt(256);
        MemorySegment m = MemorySegment.ofArray(data);
        int blocks = (int) (bytes / type.blockBytes());
        for (int b = 0; b < blocks; b++) {
            long at = (long) b * type.blockBytes();
            short scale = Float.floatToFloat16((float) (0.001 + r.nextDouble() * 0.01));
            switch (type) {
                case F32 -> m.set(Blocks.F32, at, (float) r.nextGaussian());
                case F16 -> m.set(Blocks.U16, at, Float.floatToFloat16((float) r.nextGaussian()));
                case BF16 -> m.set(Blocks.U16, at, (short) (Float.floatToIntBits((float) r.nextGaussian()) >>> 16));
                case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> m.set(Blocks.U16, at, scale);
                case Q4_1, Q5_1, Q4_K, Q5_K -> {
                    m.set(Blocks.U16, at, scale);
                    m.set(Blocks.U16, at + 2, scale);
                }
                case Q2_K -> {
                    m.set(Blocks.U16, at + 80, scale);
                    m.set(Blocks.U16, at + 82, scale);
                }
                case Q3_K -> m.set(Blocks.U16, at + 108, scale);
                case Q6_K -> m.set(Blocks.U16, at + 208, scale);
                case MXFP4 -> m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at, (byte) (120 + r.nextInt(10)));
                default -> { }
            }
        }
        return m;
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K",
            "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "MXFP4"})
    void fusedDotMatchesDecodeThenDot(TensorType type) {
        // 1312 = 41 blocks of 32: an odd block count for the kernels that take blocks in pairs
        for (int columns : type.blockSize() == 32 ? new int[] {256, 512, 1280, 1312} : new int[] {256, 512, 1280}) {
            int rows = 7;
            MemorySegment m = randomRows(type, rows, columns, columns + type.ordinal());
            Kernel kernel = Kernel.of(type);
            SplittableRandom r = new SplittableRandom(3);
            float[] x = new float[columns + 5];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            float[] row = new float[columns];
            long rowBytes = type.bytesFor(columns);
            for (int k = 0; k < rows; k++) {
                Blocks.dequantize(type, m, k * rowBytes, row, 0, columns);
                double expected = 0, magnitude = 0;
                for (int i = 0; i < columns; i++) {
                    expected += (double) row[i] * x[5 + i];
                    magnitude += Math.abs((double) row[i] * x[5 + i]);
                }
                float actual = kernel.dot(m, k * rowBytes, x, 5, columns);
                // float32 accumulation in a different order: error bounded by n·eps·Σ|terms|
                double bound = columns * 6e-8 * magnitude + 1e-30;
                assertThat(Math.abs(actual - expected)).as("%s row %d of %d columns", type, k, columns).isLessThanOrEqualTo(bound);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K",
            "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "MXFP4"})
    void kernelDecodeEqualsReferenceDecodeBitForBit(TensorType type) {
        int rows = 3, columns = 1280;
        MemorySegment m = randomRows(type, rows, columns, 77 + type.ordinal());
        long rowBytes = type.bytesFor(columns);
        float[] expected = new float[columns + 3], actual = new float[columns + 3];
        for (int k = 0; k < rows; k++) {
            Blocks.dequantize(type, m, k * rowBytes, expected, 3, columns);
            Kernel.of(type).dequantize(m, k * rowBytes, actual, 3, columns);
            assertThat(actual).as("%s row %d", type, k).isEqualTo(expected);
        }
    }

    @Test
    void matMulEqualsMatVecPerToken() {
        MemorySegment m = randomRows(TensorType.Q4_K, 9, 512, 11);
        Matrix w = Matrix.of(new org.moescope.format.TensorData("w", TensorType.Q4_K, new long[] {9, 512}, m));
        float[] x = new float[3 * 512];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] batched = new float[3 * 9];
        w.matMul(x, 512, 3, batched, 9, 0, 9, new float[512]);
        for (int t = 0; t < 3; t++) {
            float[] single = new float[9];
            float[] xt = java.util.Arrays.copyOfRange(x, t * 512, (t + 1) * 512);
            w.matVec(xt, 0, single, 0, 0, 9);
            for (int k = 0; k < 9; k++) assertThat(batched[t * 9 + k]).isCloseTo(single[k], org.assertj.core.data.Offset.offset(1e-4f * (1 + Math.abs(single[k]))));
        }
    }

    @Test
    void rowQuadsInBatchedProductsChangeNoBit() {
        // 13 tokens (past the row-exact limit); 11 rows = two quads and three left over; Q8_0 and
        // F32 with 520 columns (a tail past the last whole vector): four rows at a time against one by one
        for (TensorType type : new TensorType[] {TensorType.Q8_0, TensorType.F32}) {
            int rows = 11, columns = type == TensorType.F32 ? 520 : 512, tokens = 13;
            MemorySegment m = type == TensorType.F32 ? MemorySegment.ofArray(gaussians(rows * columns, 12)) : randomRows(type, rows, columns, 12);
            Matrix w = Matrix.of(new org.moescope.format.TensorData("w", type, new long[] {rows, columns}, m));
            float[] x = gaussians(tokens * columns, 6);
            float[] oneByOne = new float[tokens * rows], quads = new float[tokens * rows];
            w.matMul(x, columns, tokens, oneByOne, rows, 0, rows, new float[columns]);
            w.matMul(x, columns, tokens, quads, rows, 0, rows, new float[4 * columns]);
            assertThat(quads).as("%s quads", type).isEqualTo(oneByOne);
        }
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "Q8_0", "Q4_K", "Q6_K", "Q5_0"})
    void sixteenRowsReducedTogetherGiveEachRowsDotBitForBit(TensorType type) {
        // 37 rows: two groups of 16 reduced together (where the kernel leaves its lanes unreduced) and 5 one by one
        int rows = 37, columns = 512;
        MemorySegment m = type == TensorType.F32 ? MemorySegment.ofArray(gaussians(rows * columns, 21)) : randomRows(type, rows, columns, 21);
        Matrix w = Matrix.of(new org.moescope.format.TensorData("w", type, new long[] {rows, columns}, m));
        Kernel kernel = Kernel.of(type);
        for (int tokens = 1; tokens <= Matrix.ROW_EXACT_TOKENS; tokens++) {
            float[] x = gaussians(tokens * columns, tokens);
            float[] together = new float[tokens * rows];
            w.matMulRows(x, 0, columns, tokens, together, 0, rows, 0, rows);
            for (int t = 0; t < tokens; t++) {
                for (int k = 0; k < rows; k++) {
                    float alone = kernel.dot(m, k * type.bytesFor(columns), x, t * columns, columns);
                    assertThat(together[t * rows + k]).as("%s row %d token %d of %d", type, k, t, tokens).isEqualTo(alone);
                }
            }
        }
    }

    @Test
    void eightStreamsGiveEachRowsDotBitForBit() {
        // a range's whole groups of 16 rows go as eight far-apart streams (Kernel.dotLanes8) where
        // the machine has 16-lane vectors, the rest one by one
        TensorType type = TensorType.Q8_0;
        Kernel kernel = Kernel.of(type);
        for (int columns : new int[] {512, 96}) { // 16 and 3 blocks a row
            int rows = 300;
            assertThat(kernel.writesLanes8(columns)).as("eight-row kernel for %d columns", columns).isEqualTo(Kernel.FP.length() == 16);
            MemorySegment m = randomRows(type, rows, columns, 61);
            for (boolean tables : new boolean[] {false, true}) { // the block scales converted in the loop, or read from the matrix's table
                var tensor = new org.moescope.format.TensorData("w", type, new long[] {rows, columns}, m);
                Matrix w = Matrix.withScaleTables(tables, () -> Matrix.of(tensor));
                assertThat(w.hasScaleTable()).as("scale table").isEqualTo(tables && Kernel.FP.length() == 16);
                for (int[] range : new int[][] {{0, 16}, {5, 37}, {0, 128}, {0, rows}, {3, 280}, {10, 150}, {150, 300}, {7, 100}}) {
                    for (int tokens = 1; tokens <= Matrix.ROW_EXACT_TOKENS; tokens++) {
                        float[] x = gaussians(tokens * columns, 60 + tokens);
                        float[] y = new float[tokens * rows];
                        Arrays.fill(y, Float.NaN);
                        w.matMulRows(x, 0, columns, tokens, y, 0, rows, range[0], range[1]);
                        for (int t = 0; t < tokens; t++) {
                            for (int k = 0; k < rows; k++) {
                                float expected = k < range[0] || k >= range[1] ? Float.NaN : kernel.dot(m, k * type.bytesFor(columns), x, t * columns, columns);
                                assertThat(Float.floatToIntBits(y[t * rows + k])).as("%d columns, tables %s, rows %s, row %d token %d of %d: %s, not %s", columns,
                                        tables, Arrays.toString(range), k, t, tokens, y[t * rows + k], expected).isEqualTo(Float.floatToIntBits(expected));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void scaleTablesOnlyForSmallModels() {
        assertThat(Matrix.scaleTablesFit(34_042_688)).as("mini-moe Q8_0").isTrue();
        assertThat(Matrix.scaleTablesFit(7_359_634_208L)).as("OLMoE-1B-7B Q8_0").isFalse();
        assertThat(Matrix.scaleTablesFit(Matrix.SCALE_TABLE_LIMIT / 4 * 34)).isTrue();
        assertThat(Matrix.scaleTablesFit(Matrix.SCALE_TABLE_LIMIT / 4 * 34 + 34)).isFalse();
        // outside withScaleTables there are none
        MemorySegment m = randomRows(TensorType.Q8_0, 32, 256, 5);
        assertThat(Matrix.of(new org.moescope.format.TensorData("w", TensorType.Q8_0, new long[] {32, 256}, m)).hasScaleTable()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q8_0", "Q4_K", "Q6_K"})
    void inputsAtAnyOffsetAndStrideGiveEachRowsDotBitForBit(TensorType type) {
        // offsets and strides that are not multiples of 16 floats: Matrix copies such inputs to a
        // cache line's start (ArrayAlignment) before the kernels see them
        int rows = 21, columns = 512;
        MemorySegment m = randomRows(type, rows, columns, 41);
        Matrix w = Matrix.of(new org.moescope.format.TensorData("w", type, new long[] {rows, columns}, m));
        Kernel kernel = Kernel.of(type);
        for (int tokens = 1; tokens <= Matrix.ROW_EXACT_TOKENS; tokens++) {
            for (int offset : new int[] {0, 5, 12, 16}) {
                int stride = columns + 3;
                float[] x = gaussians(offset + tokens * stride, 40 + tokens + offset);
                float[] y = new float[tokens * rows];
                w.matMulRows(x, offset, stride, tokens, y, 0, rows, 0, rows);
                for (int t = 0; t < tokens; t++) {
                    for (int k = 0; k < rows; k++) {
                        float alone = kernel.dot(m, k * type.bytesFor(columns), x, offset + t * stride, columns);
                        assertThat(y[t * rows + k]).as("%s row %d token %d of %d at offset %d", type, k, t, tokens, offset).isEqualTo(alone);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q8_0", "Q4_K", "F32"})
    void tokensInLanesSumEachRowInOrder(TensorType type) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Matrix.tokenLanesAvailable(), "no 16-lane vectors here: the token-lane path is not taken");
        // 16 tokens in 16 lanes (8 rows at a time), 21 in 32 (12 rows × 32 tokens at a time), 37 in 48 (one
        // 32-token pair and one part-filled group of 16) and 70 in 80 (two pairs and a group); rows 3..36
        // (at 16 lanes 4 groups of 8; else 12, 12 and 8) and 2 left over
        for (int tokens : new int[] {16, 21, 37, 70}) tokensInLanes(type, tokens, 40, 512);
        // rows longer than the decoded rows' fixed stride: back to back, 8 rows × 16 tokens at a time
        tokensInLanes(type, 37, 11, (Kernel.ROW_STRIDE / 256 + 1) * 256);
    }

    private static void tokensInLanes(TensorType type, int tokens, int rows, int columns) {
        int tp = Matrix.paddedTokens(tokens), from = 3, to = rows - 3;
        MemorySegment m = type == TensorType.F32 ? MemorySegment.ofArray(gaussians(rows * columns, 31)) : randomRows(type, rows, columns, 31);
        Matrix w = Matrix.of(new org.moescope.format.TensorData("w", type, new long[] {rows, columns}, m));
        float[] x = gaussians(5 + tokens * (columns + 3), 32), xt = new float[Matrix.LANES_AT + columns * tp], yt = new float[Matrix.LANES_AT + rows * tp];
        java.util.Arrays.fill(xt, Float.NaN);
        java.util.Arrays.fill(yt, Float.NaN);
        Matrix.transposeTokens(x, 5, columns + 3, tokens, columns, xt, tp);
        w.matMulTokens(xt, tp, yt, from, to);
        float[] row = new float[columns];
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            for (int t = 0; t < tp; t++) {
                float got = yt[Matrix.LANES_AT + r * tp + t];
                if (r < from || r >= to) {
                    assertThat(got).as("row %d outside [%d, %d) untouched", r, from, to).isNaN();
                    continue;
                }
                // one fused multiply-add per column, in column order; lanes past the tokens see zeros
                float expected = 0;
                for (int c = 0; c < columns; c++) expected = Math.fma(row[c], t < tokens ? x[5 + t * (columns + 3) + c] : 0f, expected);
                assertThat(got).as("%s, %d tokens: row %d lane %d", type, tokens, r, t).isEqualTo(expected);
            }
        }
        float[] back = new float[tokens * (rows + 1)];
        Matrix.untransposeTokens(yt, tp, rows, tokens, back, 1, rows + 1);
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) assertThat(Float.floatToRawIntBits(back[1 + t * (rows + 1) + r])).isEqualTo(Float.floatToRawIntBits(yt[Matrix.LANES_AT + r * tp + t]));
        }
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q8_0", "Q4_K"})
    void prefillSplitIntoRowChunksChangesNoBit(TensorType type) {
        // how threads split a product's rows must not change any output: chunks of 1, 7, 100 and
        // the rest against one call
        for (int columns : new int[] {256, 1024}) {
            int rows = 272, tokens = 21;
            MemorySegment m = randomRows(type, rows, columns, 41);
            Matrix w = Matrix.of(new org.moescope.format.TensorData("w", type, new long[] {rows, columns}, m));
            float[] x = gaussians(tokens * columns, 42);
            float[] whole = new float[tokens * rows], chunked = new float[tokens * rows];
            w.matMul(x, columns, tokens, whole, rows, 0, rows, new float[4 * columns]);
            int[] cuts = {0, 1, 8, 108, rows};
            for (int i = 0; i + 1 < cuts.length; i++) w.matMul(x, columns, tokens, chunked, rows, cuts[i], cuts[i + 1], new float[4 * columns]);
            assertThat(chunked).as("%s, %d columns", type, columns).isEqualTo(whole);
        }
    }

    @Test
    void laneSumAddsAsTheVectorReduction() {
        var species = FloatVector.SPECIES_PREFERRED;
        for (long seed = 0; seed < 200; seed++) {
            float[] a = gaussians(species.length(), seed);
            for (int i = 0; i < a.length; i += 3) a[i] *= 1e6f; // sums whose rounding depends on the order
            assertThat(Kernel.laneSum(a, 0)).as("seed %d", seed).isEqualTo(Kernel.sumPreferred(FloatVector.fromArray(species, a, 0)));
        }
    }

    @Test
    void sixteenPackedButterfliesAddAsOneAtATime() {
        if (FloatVector.SPECIES_PREFERRED.length() != 16) return; // the packed reduction is the AVX-512 path's
        for (long seed = 0; seed < 200; seed++) {
            float[] a = java.util.Arrays.copyOf(gaussians(256, seed), 256 + 16);
            for (int i = 0; i < 256; i += 7) a[i] *= 1e6f; // sums whose rounding depends on the order
            float[] expected = new float[16];
            for (int k = 0; k < 16; k++) expected[k] = Kernel.butterfly16(a, 16 * k);
            Kernel.packedButterflies(a);
            for (int k = 0; k < 16; k++) assertThat(a[256 + Kernel.LANE_OF[k]]).as("vector %d, seed %d", k, seed).isEqualTo(expected[k]);
        }
    }

    @Test
    void kernelIndexesTakeOffsetsBelowTwoToTheThirtyAndRefuseTheRest() {
        assertThat(Kernel.indexBase(0)).isZero();
        assertThat(Kernel.indexBase((1 << 30) - 1)).isEqualTo((1 << 30) - 1);
        assertThatThrownBy(() -> Kernel.indexBase(1 << 30)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1073741824");
        assertThatThrownBy(() -> Kernel.indexBase(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Kernel.blockCount(2048, 8)).isEqualTo(8);
        assertThat(Kernel.blockCount(0xFFFF << 8, 8)).isEqualTo(0xFFFF);
        assertThatThrownBy(() -> Kernel.blockCount(0x10000 << 8, 8)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16777216 values");
    }

    private static float[] gaussians(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }


    @Test
    void q8ActivationsRoundAsLlamaCppDoes() {
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = i - 16.5f;
        x[0] = -127f; // amax 127: d = 1, so values round to integers, halves to even
        x[1] = 2.5f;
        x[2] = 3.5f;
        float[] q = x.clone();
        ActivationQuantizer.roundTrip(ActivationQuantizer.Format.Q8_0, q, 0, 32);
        assertThat(q[1]).isEqualTo(2f);
        assertThat(q[2]).isEqualTo(4f);
        assertThat(q[0]).isEqualTo(-127f);
        SplittableRandom r = new SplittableRandom(9);
        float[] y = new float[512];
        for (int i = 0; i < y.length; i++) y[i] = (float) (r.nextGaussian() * 3);
        float[] yq = y.clone();
        ActivationQuantizer.roundTrip(ActivationQuantizer.Format.Q8_K, yq, 0, 512);
        for (int b = 0; b < 2; b++) {
            float amax = 0;
            for (int i = 0; i < 256; i++) amax = Math.max(amax, Math.abs(y[b * 256 + i]));
            for (int i = 0; i < 256; i++) {
                assertThat(Math.abs(yq[b * 256 + i] - y[b * 256 + i])).isLessThanOrEqualTo(amax / 127f / 2 * 1.0001f);
            }
        }
    }

    @Test
    void e4m3DecodesEveryByte() {
        assertThat(Fp8.e4m3(0x00)).isEqualTo(0f);
        assertThat(Fp8.e4m3(0x38)).isEqualTo(1f); // exponent 7 = bias
        assertThat(Fp8.e4m3(0x7E)).isEqualTo(448f); // the largest finite value
        assertThat(Fp8.e4m3(0xFE)).isEqualTo(-448f);
        assertThat(Fp8.e4m3(0x01)).isEqualTo(0x1p-9f); // smallest subnormal
        assertThat(Float.isNaN(Fp8.e4m3(0x7F))).isTrue();
        assertThat(Float.isNaN(Fp8.e4m3(0xFF))).isTrue();
        int finite = 0;
        for (int b = 0; b < 256; b++) if (!Float.isNaN(Fp8.e4m3(b))) finite++;
        assertThat(finite).isEqualTo(254);
    }
}
