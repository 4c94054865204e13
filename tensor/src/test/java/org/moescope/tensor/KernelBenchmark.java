package org.moescope.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.moescope.format.TensorType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One thread's matrix-vector product (decode's inner loop) per stored type: a 1024×2048 matrix
 * (an OLMoE expert projection) against float activations. Weight GB/s = ops/s × bytes of the
 * matrix; compare with `bench --memory` for the memory bound.
 * Run: bench/jmh tensor KernelBenchmark -f 1 -wi 3 -i 5
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// as bin/moescope runs them: without the Vector API's per-load bounds checks, objects on cache lines (-jvmArgsAppend replaces this list)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:CompileCommand=quiet",
        "-XX:CompileCommand=inline,org.moescope.tensor.Kernel::sum*", "-XX:CompileCommand=dontinline,org.moescope.tensor.Kernel::packedButterflies",
        "-XX:CompileCommand=dontinline,org.moescope.tensor.VectorExp::expShifted",
        "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0", "-XX:ObjectAlignmentInBytes=64"})
public class KernelBenchmark {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "MXFP4"}) String type;

    /** Rows of the matrix: 1024 (2 MB at Q8_0, served from cache) or e.g. 65536 (from memory, as decoding reads). */
    @Param({"1024"}) int rows;

    private Matrix matrix;
    private final float[] x = new float[2048];
    private float[] y;
    /** Prefill: 16 tokens through the same matrix (an expert's share of a 128-token prompt). */
    private final float[] xs = new float[16 * 2048], ys = new float[16 * 1024], scratch = new float[4 * 2048];

    @Setup
    public void setUp() {
        TensorType t = TensorType.valueOf(type);
        int columns = 2048;
        long rowBytes = t.bytesFor(columns);
        MemorySegment m = Arena.ofAuto().allocate(rowBytes * rows, 64);
        SplittableRandom random = new SplittableRandom(1);
        for (long i = 0; i < m.byteSize(); i++) m.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
        if (t.blockSize() > 1) {
            // finite f16 scales wherever a block keeps one (first two bytes for the _0 types, d/dmin for the K types)
            for (long b = 0; b < m.byteSize(); b += t.bytesFor(t.blockSize())) {
                long at = t == TensorType.Q6_K ? b + 208 : b;
                m.set(Blocks.U16, at, Float.floatToFloat16(0.01f));
                if (t == TensorType.Q4_K) m.set(Blocks.U16, at + 2, Float.floatToFloat16(0.01f));
            }
        } else if (t == TensorType.F32) {
            for (long i = 0; i < m.byteSize(); i += 4) m.set(Blocks.F32, i, (float) random.nextGaussian());
        }
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        for (int i = 0; i < xs.length; i++) xs[i] = (float) random.nextGaussian();
        matrix = new Matrix("bench", t, m, rows, columns);
        y = new float[rows];
    }

    /** 16 tokens at once (prefill); GFLOP/s = ops/s × 2 × 16 × 1024 × 2048 / 1e9. */
    @Benchmark
    public float[] matMul16() {
        matrix.matMul(xs, 2048, 16, ys, 1024, 0, Math.min(1024, rows), scratch);
        return ys;
    }

    private int expertSeed = 1;

    /** Eight of rows/1024 experts of 1024 rows each, chosen at random per call (decode's expert reads). */
    @Benchmark
    public float[] experts() {
        int experts = rows / 1024;
        for (int i = 0; i < 8; i++) {
            expertSeed = expertSeed * 1103515245 + 12345;
            int e = (expertSeed >>> 8) % experts;
            matrix.matVec(x, 0, y, 0, e * 1024, e * 1024 + 1024);
        }
        return y;
    }

    @Benchmark
    public float[] matVec() {
        matrix.matVec(x, 0, y, 0, 0, y.length);
        return y;
    }
}
