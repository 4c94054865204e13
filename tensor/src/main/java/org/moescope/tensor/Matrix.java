package org.moescope.tensor;

import java.lang.foreign.MemorySegment;

import org.moescope.format.TensorData;
import org.moescope.format.TensorType;

/**
 * rows × columns in one stored type over mapped memory (row r occupies one contiguous byte range).
 * Decode reads each weight once per token ({@link #matVec}); prefill decodes a weight row once and
 * uses it for every token of the batch ({@link #matMul}).
 */
public final class Matrix {
    private final String name;
    private final TensorType type;
    private final MemorySegment data;
    private final int rows;
    private final int columns;
    private final long rowBytes;
    private final Kernel kernel;
    /** Q8_0 only, and only where made {@link #withScaleTables with scale tables}: row r's block scales at [r·blocks ..], else null. */
    private final float[] scales;

    Matrix(String name, TensorType type, MemorySegment data, int rows, int columns) {
        if (columns % type.blockSize() != 0) {
            throw new IllegalArgumentException(name + ": " + columns + " columns are not whole " + type + " blocks");
        }
        this.name = name;
        this.type = type;
        this.data = data;
        this.rows = rows;
        this.columns = columns;
        this.rowBytes = type.bytesFor(columns);
        this.kernel = Kernel.of(type);
        if (data.byteSize() < rowBytes * rows) throw new IllegalArgumentException(name + ": data is shorter than its shape");
        if (type == TensorType.Q8_0 && kernel.writesLanes8(columns) && SCALE_TABLES.orElse(false)) {
            int blocks = columns / 32;
            scales = new float[Math.multiplyExact(rows, blocks)];
            for (int r = 0; r < rows; r++) for (int b = 0; b < blocks; b++) scales[r * blocks + b] = Blocks.half(data, r * rowBytes + 34L * b);
        } else {
            scales = null;
        }
    }

    /**
     * Whether Q8_0 matrices made in the current scope keep their block scales as floats ({@link #withScaleTables}).
     * Decode's eight-row kernel then reads a row's scales from that table instead of converting
     * each f16 scale (a lookup in {@link Blocks#HALVES}): the same bits; mini-moe decode 4–14 %
     * faster on one thread, up to 5.5 % on two. A table costs 4 bytes per 34 of weights, so models get them only up to
     * {@link #SCALE_TABLE_LIMIT} in all (see {@link #scaleTablesFit}).
     */
    private static final ScopedValue<Boolean> SCALE_TABLES = ScopedValue.newInstance();

    /** The most memory a model's Q8_0 scale tables may take: well inside the 300 MB that the memory bound leaves beyond the file and the KV cache. */
    public static final long SCALE_TABLE_LIMIT = 32L << 20;

    /** Runs {@code make} with Q8_0 scale tables on or off for the matrices it makes. */
    public static <T> T withScaleTables(boolean on, java.util.function.Supplier<T> make) {
        return ScopedValue.where(SCALE_TABLES, on).call(make::get);
    }

    /** Whether scale tables for this many bytes of Q8_0 weights stay within {@link #SCALE_TABLE_LIMIT}. */
    public static boolean scaleTablesFit(long q8Bytes) {
        return q8Bytes / 34 * 4 <= SCALE_TABLE_LIMIT;
    }

    /** Whether this matrix keeps its block scales as floats. */
    public boolean hasScaleTable() { return scales != null; }

    /** A 2-D tensor (a 1-D one as one row). */
    public static Matrix of(TensorData t) {
        if (t.rank() > 2) throw new IllegalArgumentException(t.name() + " is " + t.rank() + "-D: take one slice");
        return new Matrix(t.name(), t.type(), t.data(), Math.toIntExact(t.rows()), Math.toIntExact(t.columns()));
    }

    public static Matrix ofFloats(float[] values, int rows, int columns) {
        return new Matrix("floats", TensorType.F32, MemorySegment.ofArray(values), rows, columns);
    }

    public String name() { return name; }

    public TensorType type() { return type; }

    public int rows() { return rows; }

    public int columns() { return columns; }

    /** Bytes of weights one full pass reads. */
    public long byteSize() { return rowBytes * rows; }

    public Kernel kernel() { return kernel; }

    public void dequantizeRow(int row, float[] out, int offset) {
        kernel.dequantize(data, row * rowBytes, out, offset, columns);
    }

    public float dot(int row, float[] x, int offset) {
        return kernel.dot(data, row * rowBytes, x, offset, columns);
    }

    /** y[yOffset + r] = W[r]·x for r in [rowFrom, rowTo). */
    public void matVec(float[] x, int xOffset, float[] y, int yOffset, int rowFrom, int rowTo) {
        rowByRow(x, xOffset, 0, 1, y, yOffset, 0, rowFrom, rowTo);
    }

    /**
     * {@link #matMul} for at most {@link #ROW_EXACT_TOKENS} tokens, with the inputs at x[xOffset + t·xStride]
     * and the outputs at y[yOffset + t·yStride + r]: each output as {@link #matVec} computes it.
     */
    public void matMulRows(float[] x, int xOffset, int xStride, int tokens, float[] y, int yOffset, int yStride, int rowFrom, int rowTo) {
        if (tokens > ROW_EXACT_TOKENS) throw new IllegalArgumentException(tokens + " tokens: at most " + ROW_EXACT_TOKENS + " go row by row");
        rowByRow(x, xOffset, xStride, tokens, y, yOffset, yStride, rowFrom, rowTo);
    }

    /**
     * Each output by the kernel's dot product. Where the kernel can leave a row's accumulator
     * unreduced ({@link Kernel#writesLanes}), rows go 16 at a time and their 16 reductions are done
     * together ({@link Kernel#packedButterflies}: the same bits as one by one, a quarter of the
     * operations, and no row waits on its own reduction).
     */
    private void rowByRow(float[] x, int xOffset, int xStride, int tokens, float[] y, int yOffset, int yStride, int rowFrom, int rowTo) {
        int line = ArrayAlignment.LINE_FLOATS;
        boolean aligned = (xOffset - ArrayAlignment.FIRST_LINE) % line == 0 && (tokens == 1 || xStride % line == 0);
        if (!rowsCanStartLines() || aligned) {
            rowByRowAsGiven(x, xOffset, xStride, tokens, y, yOffset, yStride, rowFrom, rowTo);
            return;
        }
        // the inputs copied to the start of a cache line: the kernels' 16-float loads then each read one line
        rowByRowAsGiven(copiedToLines(x, xOffset, xStride, tokens), ArrayAlignment.FIRST_LINE, columns, tokens, y, yOffset, yStride, rowFrom, rowTo);
    }

    /** Whether rows of this matrix's width can be laid on cache lines' starts: the lines are known ({@link ArrayAlignment}) and a row is whole lines. */
    private boolean rowsCanStartLines() {
        return ArrayAlignment.FLOAT_PAD >= 0 && columns % ArrayAlignment.LINE_FLOATS == 0;
    }

    /**
     * The tokens' input rows x[xOffset + t·xStride ..] copied to the thread's {@link #ALIGNED} buffer,
     * row t at {@link ArrayAlignment#FIRST_LINE} + t·columns (each on a line's start where
     * {@link #rowsCanStartLines}).
     */
    private float[] copiedToLines(float[] x, int xOffset, int xStride, int tokens) {
        float[] copy = ArrayAlignment.buffer(ALIGNED, tokens * columns, 0);
        for (int t = 0; t < tokens; t++) System.arraycopy(x, xOffset + t * xStride, copy, ArrayAlignment.FIRST_LINE + t * columns, columns);
        return copy;
    }

    /** Per thread: the four decoded rows of {@link #matMul}, from a cache line's start. */
    private static final ThreadLocal<float[]> DECODED4 = ThreadLocal.withInitial(() -> new float[0]);

    /** Per thread: inputs copied to a cache line's start ({@link ArrayAlignment#FIRST_LINE} floats in). */
    private static final ThreadLocal<float[]> ALIGNED = ThreadLocal.withInitial(() -> new float[0]);

    private void rowByRowAsGiven(float[] x, int xOffset, int xStride, int tokens, float[] y, int yOffset, int yStride, int rowFrom, int rowTo) {
        int group = kernel.sumGroup(), groups = group == 0 ? 0 : columns / group;
        float[] sums = group == 0 ? null : Kernel.groupSumBuffer(SUMS, tokens * groups);
        for (int t = 0; t < tokens && group > 0; t++) Kernel.groupSums(x, xOffset + t * xStride, columns, group, sums, Kernel.SUMS_AT + t * groups);
        int r = rowFrom;
        if (rowTo - rowFrom >= 16 && group == 0 && kernel.writesLanes8(columns)) r = eightStreams(x, xOffset, xStride, tokens, y, yOffset, yStride, rowFrom, rowTo);
        if (rowTo - r >= 16 && kernel.writesLanes(columns)) {
            float[] lanes = LANES.get();
            for (; r + 16 <= rowTo; r += 16) {
                for (int t = 0; t < tokens; t++) {
                    int xt = xOffset + t * xStride, yt = yOffset + t * yStride + r;
                    for (int k = 0; k < 16; k++) {
                        lanes[LANES_AT + Kernel.TILE_LANES + k] = kernel.dotLanes(data, (r + k) * rowBytes, x, xt, columns, sums, Kernel.SUMS_AT + t * groups, lanes, LANES_AT + 16 * k);
                    }
                    reduce16(lanes, true, y, yt, 1, 8);
                }
            }
        }
        for (; r < rowTo; r++) {
            long at = r * rowBytes;
            for (int t = 0; t < tokens; t++) {
                y[yOffset + t * yStride + r] = kernel.dot(data, at, x, xOffset + t * xStride, columns, sums, Kernel.SUMS_AT + t * groups);
            }
        }
    }

    /**
     * The range's whole groups of 16 rows, read as eight streams: those rows split into eight
     * parts, and {@link Kernel#dotLanes8} given one row of each at a time, so that eight far-apart
     * places in the matrix are read side by side (one core reading one row after another keeps too
     * few cache lines in flight; docs/PERFORMANCE.md, "Eight streams"). Rows go to the packed
     * reduction 16 at a time, two consecutive rows of each part; every output has the bits
     * {@link Kernel#dotLanes} gives it. Returns the first row not done.
     */
    private int eightStreams(float[] x, int xOffset, int xStride, int tokens, float[] y, int yOffset, int yStride, int rowFrom, int rowTo) {
        int part = (rowTo - rowFrom) / 16 * 2;
        long apart = part * rowBytes;
        float[] lanes = LANES.get();
        Kernel.Q8Kernel q8 = scales == null ? null : (Kernel.Q8Kernel) kernel;
        int blocks = columns / type.blockSize();
        for (int i = 0; i < part; i += 2) {
            for (int t = 0; t < tokens; t++) {
                int xt = xOffset + t * xStride, yt = yOffset + t * yStride + rowFrom + i;
                if (q8 != null) {
                    q8.dotLanes8Scaled(data, (rowFrom + i) * rowBytes, apart, x, xt, columns, lanes, LANES_AT, scales, (rowFrom + i) * blocks, part * blocks);
                    q8.dotLanes8Scaled(data, (rowFrom + i + 1) * rowBytes, apart, x, xt, columns, lanes, LANES_AT + 128, scales, (rowFrom + i + 1) * blocks, part * blocks);
                } else {
                    kernel.dotLanes8(data, (rowFrom + i) * rowBytes, apart, x, xt, columns, lanes, LANES_AT);
                    kernel.dotLanes8(data, (rowFrom + i + 1) * rowBytes, apart, x, xt, columns, lanes, LANES_AT + 128);
                }
                reduce16(lanes, false, y, yt, part, 1); // lane vector 8k + j: row rowFrom + j·part + i + k
            }
        }
        return rowFrom + 8 * part;
    }

    /**
     * The 16 lane vectors at lanes[LANES_AT + 16s ..] added up ({@link Kernel#packedButterflies}), each
     * less its correction at lanes[LANES_AT + TILE_LANES + s] where {@code corrected}, into y: vector
     * s = 8k + j (k &lt; 2, j &lt; 8) to y[at + j·jStep + k·kStep].
     */
    private static void reduce16(float[] lanes, boolean corrected, float[] y, int at, int jStep, int kStep) {
        Kernel.packedButterflies(lanes, LANES_AT);
        for (int k = 0; k < 2; k++) {
            for (int j = 0; j < 8; j++) {
                float sum = lanes[LANES_AT + 256 + Kernel.LANE_OF[8 * k + j]];
                y[at + j * jStep + k * kStep] = corrected ? sum - lanes[LANES_AT + Kernel.TILE_LANES + 8 * k + j] : sum;
            }
        }
    }

    /** Per thread: the activation group sums of the product in progress (see {@link Kernel#sumGroup}). */
    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[64]);

    /**
     * Up to this many tokens, {@link #matMul} computes every output as {@link #matVec} does (the same
     * kernel, the same bits), reading each weight row from memory once for all of them: decoding
     * several sequences in one pass gives each exactly what decoding it alone gives.
     */
    public static final int ROW_EXACT_TOKENS = 4;

    /**
     * Per thread: the accumulators of a 4-row tile of {@link #matMul} (from index 0), or of 16 rows of
     * {@link #rowByRow} (from {@link #LANES_AT}, on a cache line: the 16 vectors stored and loaded
     * back by every reduction are then not split), for their reduction; then 16 floats of the
     * latter's per-row corrections.
     */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[Kernel.LANES_AT + Kernel.TILE_LANES + 16]);

    /**
     * For each row r in [rowFrom, rowTo) and token t &lt; tokens: y[t·yStride + r] = W[r]·x[t·xStride ...].
     * {@code scratch} holds one decoded row (at least {@code columns} floats). Rows go four at a time,
     * which changes no bit: decoded into a buffer of the thread's own, on a cache line with the
     * tokens' inputs copied beside it, where the lines are known ({@link ArrayAlignment}), else into
     * scratch when it has room for four.
     */
    public void matMul(float[] x, int xStride, int tokens, float[] y, int yStride, int rowFrom, int rowTo, float[] scratch) {
        if (tokens <= ROW_EXACT_TOKENS) {
            matMulRows(x, 0, xStride, tokens, y, 0, yStride, rowFrom, rowTo);
            return;
        }
        // tokens in fours through decoded rows; the one to three left over row by row on the stored
        // rows (the fused kernels, 16 rows' reductions at once) instead of a lone dot product each
        int full = tokens & ~3;
        int r = rowFrom;
        // the four decoded rows and the tokens' inputs from a cache line's start (see ArrayAlignment),
        // where the lines are known: dot4x4's eight loads a step then each read one line, not two
        boolean aligned = rowsCanStartLines();
        if (aligned || scratch.length >= 4 * columns) {
            float[] lanes = LANES.get(), w = scratch, in = x;
            int wo = 0, xo = 0, stride = xStride;
            if (aligned) {
                w = ArrayAlignment.buffer(DECODED4, 4 * columns, 0);
                in = copiedToLines(x, 0, xStride, full);
                wo = xo = ArrayAlignment.FIRST_LINE;
                stride = columns;
            }
            // four rows at a time: each activation vector loaded once serves four rows
            for (; r + 3 < rowTo; r += 4) {
                for (int k = 0; k < 4; k++) kernel.dequantize(data, (r + k) * rowBytes, w, wo + k * columns, columns);
                for (int t = 0; t < full; t += 4) Kernel.dot4x4(w, wo, in, xo + t * stride, stride, columns, y, t * yStride + r, yStride, lanes);
            }
        }
        for (; r < rowTo; r++) {
            kernel.dequantize(data, r * rowBytes, scratch, 0, columns);
            for (int t = 0; t < full; t += 4) Kernel.dot4(scratch, x, t * xStride, xStride, columns, y, t * yStride + r, yStride);
        }
        if (full < tokens) rowByRow(x, full * xStride, xStride, tokens - full, y, full * yStride, yStride, rowFrom, rowTo);
    }

    /** Per thread: the 8 or 12 decoded rows of {@link #matMulTokens}. */
    private static final ThreadLocal<float[][]> ROWS8 = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    /** Whether this machine's vectors take {@link #matMulTokens} (16 lanes: AVX-512). */
    public static boolean tokenLanesAvailable() { return Kernel.FP.length() == 16; }

    /**
     * Where the token-lane layouts of {@link #transposeTokens}, {@link #matMulTokens} and
     * {@link #untransposeTokens} start in their arrays (on a cache line): size them LANES_AT + the layout.
     */
    public static final int LANES_AT = Kernel.LANES_AT;

    /** Tokens padded to the lanes of {@link #matMulTokens}: a multiple of 16. */
    public static int paddedTokens(int tokens) { return (tokens + 15) & ~15; }

    /**
     * xt[LANES_AT + c·tp + t] = x[xOffset + t·xStride + c] for c &lt; columns, t &lt; tokens; zero for tokens ≤ t &lt; tp
     * ({@link #paddedTokens}): activations laid out for {@link #matMulTokens}.
     */
    public static void transposeTokens(float[] x, int xOffset, int xStride, int tokens, int columns, float[] xt, int tp) {
        Kernel.transposeTokens(x, xOffset, xStride, tokens, columns, xt, tp);
    }

    /** y[yOffset + t·yStride + r] = yt[LANES_AT + r·tp + t] for r &lt; rows, t &lt; tokens: {@link #transposeTokens} undone. */
    public static void untransposeTokens(float[] yt, int tp, int rows, int tokens, float[] y, int yOffset, int yStride) {
        Kernel.untransposeTokens(yt, tp, rows, tokens, y, yOffset, yStride);
    }

    /** {@link #transposeTokens} of lanes [laneFrom, laneTo) only (multiples of 16, laneTo ≤ tp): one thread's part. */
    public static void transposeTokens(float[] x, int xOffset, int xStride, int tokens, int columns, float[] xt, int tp, int laneFrom, int laneTo) {
        Kernel.transposeTokens(x, xOffset, xStride, tokens, columns, xt, tp, laneFrom, laneTo);
    }

    /** {@link #untransposeTokens} of rows [rowFrom, rowTo) only: one thread's part. */
    public static void untransposeTokens(float[] yt, int tp, int rowFrom, int rowTo, int tokens, float[] y, int yOffset, int yStride) {
        Kernel.untransposeTokens(yt, tp, rowFrom, rowTo, tokens, y, yOffset, yStride);
    }

    /**
     * Prefill with the tokens in the vector lanes (where {@link #tokenLanesAvailable}): for rows r in
     * [rowFrom, rowTo) and all tp lanes t, yt[LANES_AT + r·tp + t] = Σ_c W[r][c]·xt[LANES_AT + c·tp + t], summed over
     * the columns in order, one fused multiply-add at a time. 12 (or 8) decoded weight rows at a time
     * meet 32 tokens at a time ({@link Kernel#rows12Tokens32Strided}, {@link Kernel#rows8Tokens32Strided};
     * 16 left over by the 16-token tiles): no lane is ever reduced, and each token's outputs are
     * independent of the others in the batch. Rows longer than {@link Kernel#ROW_STRIDE} go 8 × 16
     * back to back ({@link Kernel#rows8Tokens16}).
     */
    public void matMulTokens(float[] xt, int tp, float[] yt, int rowFrom, int rowTo) {
        // rows decoded Kernel.ROW_STRIDE apart where they fit (constant offsets in the tiles), else back to back
        boolean strided = columns <= Kernel.ROW_STRIDE;
        int stride = strided ? Kernel.ROW_STRIDE : columns, at = LANES_AT;
        float[][] buffers = ROWS8.get();
        if (buffers[0].length < at + 11 * stride + columns) buffers[0] = new float[at + 11 * stride + columns];
        float[] rows8 = buffers[0];
        int r = rowFrom;
        while (rowTo - r >= 8) {
            // 12 rows at a time where 32-token pairs make it pay (not at 16 lanes), leaving no 4 rows alone
            int group = strided && tp >= 32 && rowTo - r >= 12 && rowTo - r != 16 ? 12 : 8;
            int wo = strided ? at : 0, t0 = 0;
            for (int k = 0; k < group; k++) kernel.dequantize(data, (r + k) * rowBytes, rows8, wo + k * stride, columns);
            if (!strided) {
                for (; t0 < tp; t0 += 16) Kernel.rows8Tokens16(rows8, columns, xt, tp, at + t0, yt, at + r * tp + t0, tp);
            } else if (group == 12) {
                for (; t0 + 32 <= tp; t0 += 32) Kernel.rows12Tokens32Strided(rows8, wo, columns, xt, tp, at + t0, yt, at + r * tp + t0, tp);
                if (t0 < tp) Kernel.rows12Tokens16Strided(rows8, wo, columns, xt, tp, at + t0, yt, at + r * tp + t0, tp);
            } else {
                for (; t0 + 32 <= tp; t0 += 32) Kernel.rows8Tokens32Strided(rows8, wo, columns, xt, tp, at + t0, yt, at + r * tp + t0, tp);
                if (t0 < tp) Kernel.rows8Tokens16Strided(rows8, wo, columns, xt, tp, at + t0, yt, at + r * tp + t0, tp);
            }
            r += group;
        }
        for (; r < rowTo; r++) {
            kernel.dequantize(data, r * rowBytes, rows8, 0, columns);
            for (int t0 = 0; t0 < tp; t0 += 16) Kernel.row1Tokens16(rows8, columns, xt, tp, at + t0, yt, at + r * tp + t0);
        }
    }
}
