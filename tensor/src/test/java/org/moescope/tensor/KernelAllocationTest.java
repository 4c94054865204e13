package org.moescope.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.moescope.format.TensorType;

/**
 * Once the JIT has compiled them, products allocate nothing: decoding must not allocate per token,
 * and a kernel that does has usually lost its vectors to the heap (a vector C2 cannot keep in
 * registers is boxed on every use), which costs far more than the allocation. Each product runs
 * until a window of them allocates no byte, for at most {@link #PATIENCE_NANOS}; it fails if none does.
 */
class KernelAllocationTest {
    private static final long PATIENCE_NANOS = 20_000_000_000L;
    private static final int ROWS = 40, COLUMNS = 256, WINDOW = 50; // 40 rows: two groups of 16 (in Q8_0's eight streams) and 8 one by one

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K",
            "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "MXFP4"})
    void compiledProductsAllocateNothing(TensorType type) throws Exception {
        long[] bytes = bytesPerProduct(type);
        if (Arrays.stream(bytes).sum() > 0) {
            // Compiled after other types' kernels ran in this JVM, a kernel sometimes keeps its vectors
            // out of registers (C2's profiles and inlining decisions depend on what ran before and
            // when: 1 run of the module in 3-10 here, a different type each time). A model runs one
            // to three types; the type alone in a fresh JVM decides.
            long[] alone = inFreshJvm(type);
            System.out.printf("%s allocated %s per window after the other types; alone in a fresh JVM %s%n", type,
                    Arrays.toString(bytes), Arrays.toString(alone));
            bytes = alone;
        }
        assertThat(bytes[0]).as("%s matVec", type).isZero();
        assertThat(bytes[1]).as("%s 3 tokens", type).isZero();
        assertThat(bytes[2]).as("%s 16 tokens", type).isZero();
    }

    /** Bytes a window of products allocates once compiled: decode (one token), a few sequences decoded together (row by row), prefill (a 16-token tile). */
    static long[] bytesPerProduct(TensorType type) {
        // a native segment, as mapped weights are (a heap one compiles to other code)
        MemorySegment heap = KernelTest.randomRows(type, ROWS, COLUMNS, 3);
        MemorySegment m = Arena.ofAuto().allocate(heap.byteSize(), 64).copyFrom(heap);
        Matrix w = new Matrix("w", type, m, ROWS, COLUMNS);
        SplittableRandom r = new SplittableRandom(4);
        float[] x = new float[16 * COLUMNS], y = new float[16 * ROWS], scratch = new float[4 * COLUMNS];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return new long[] {
                bytesOnceCompiled(() -> w.matVec(x, 0, y, 0, 0, ROWS)),
                bytesOnceCompiled(() -> w.matMul(x, COLUMNS, 3, y, ROWS, 0, ROWS, scratch)),
                bytesOnceCompiled(() -> w.matMul(x, COLUMNS, 16, y, ROWS, 0, ROWS, scratch))};
    }

    /** {@link #bytesPerProduct} in a new JVM with this one's flags and class path. */
    private static long[] inFreshJvm(TensorType type) throws Exception { return inFreshJvm(type.name()); }

    private static long[] inFreshJvm(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), KernelAllocationTest.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("fresh JVM: %s", out).isZero();
        String line = out.lines().filter(l -> l.startsWith("BYTES ")).findFirst().orElseThrow(() -> new AssertionError("fresh JVM said: " + out));
        return Arrays.stream(line.substring(6).split(" ")).mapToLong(Long::parseLong).toArray();
    }

    /** The fresh JVM's entry point: one type's {@link #bytesPerProduct} (with Q8_0 scale tables if a second argument says "tables"). */
    public static void main(String[] args) {
        TensorType type = TensorType.valueOf(args[0]);
        long[] bytes = Matrix.withScaleTables(args.length > 1 && args[1].equals("tables"), () -> bytesPerProduct(type));
        System.out.println("BYTES " + bytes[0] + " " + bytes[1] + " " + bytes[2]);
    }

    @org.junit.jupiter.api.Test
    void q8ProductsWithScaleTablesAllocateNothing() throws Exception {
        long[] bytes = Matrix.withScaleTables(true, () -> bytesPerProduct(TensorType.Q8_0));
        if (Arrays.stream(bytes).sum() > 0) bytes = inFreshJvm("Q8_0", "tables"); // as in compiledProductsAllocateNothing
        assertThat(bytes[0]).as("Q8_0 with scale tables, matVec").isZero();
        assertThat(bytes[1]).as("Q8_0 with scale tables, 3 tokens").isZero();
    }

    @org.junit.jupiter.api.Test
    void prefillWithTokensInLanesAllocatesNothing() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Matrix.tokenLanesAvailable(), "no 16-lane vectors here: the token-lane path is not taken");
        int rows = 36, columns = 512, tokens = 20, tp = Matrix.paddedTokens(tokens);
        MemorySegment heap = KernelTest.randomRows(TensorType.Q8_0, rows, columns, 5);
        MemorySegment m = Arena.ofAuto().allocate(heap.byteSize(), 64).copyFrom(heap);
        Matrix w = new Matrix("w", TensorType.Q8_0, m, rows, columns);
        float[] x = new float[tokens * columns], xt = new float[Matrix.LANES_AT + columns * tp], yt = new float[Matrix.LANES_AT + rows * tp], y = new float[tokens * rows];
        SplittableRandom r = new SplittableRandom(6);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        assertThat(bytesOnceCompiled(() -> {
            Matrix.transposeTokens(x, 0, columns, tokens, columns, xt, tp);
            ActivationQuantizer.roundTripTokens(ActivationQuantizer.Format.Q8_0, xt, tp, columns);
            w.matMulTokens(xt, tp, yt, 0, rows);
            Matrix.untransposeTokens(yt, tp, rows, tokens, y, 0, rows);
        })).isZero();
    }

    @org.junit.jupiter.api.Test
    void vectorExpAllocatesNothing() {
        float[] x = new float[200];
        assertThat(bytesOnceCompiled(() -> {
            java.util.Arrays.fill(x, -1.5f);
            VectorExp.expShifted(x, 3, 193, 0.25f);
        })).isZero();
    }

    /** Bytes the last window of products allocated: 0 once one allocates nothing, or the last window's after the patience. */
    private static long bytesOnceCompiled(Runnable product) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long start = System.nanoTime(), bytes;
        do {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < WINDOW; i++) product.run();
            bytes = threads.getCurrentThreadAllocatedBytes() - before;
        } while (bytes > 0 && System.nanoTime() - start < PATIENCE_NANOS);
        return bytes;
    }
}
