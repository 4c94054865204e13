package org.moescope.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import org.moescope.format.TensorType;

/**
 * The arithmetic of one stored type: decode a row, and a fused dot product of a row with float32
 * activations (decoding on the fly, nothing written). Types without a fused kernel decode a block
 * at a time into a small buffer and take a vector dot of it; they are exact, just slower.
 * Fused kernels use the Vector API's preferred species, so they scale from AVX2 to AVX-512 and NEON.
 */
public abstract class Kernel {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256.length() <= FloatVector.SPECIES_PREFERRED.length()
            ? FloatVector.SPECIES_256 : FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> FP = FloatVector.SPECIES_PREFERRED;
    /**
     * Bit work on packed values is done in int lanes (bytes widened with B2I): byte-lane shifts have
     * no AVX2 instruction. The widening is written out in each kernel, not in a helper: a helper
     * returning a vector is not always inlined, and a vector that leaves compiled code is boxed.
     */
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    /** Int lanes as wide as FP, and the bytes that widen into them (16 on AVX-512, 8 on AVX2). */
    static final VectorSpecies<Integer> IP = VectorSpecies.of(int.class, FP.vectorShape());
    static final VectorSpecies<Byte> BP = FP.length() >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * FP.length())) : B8;
    /** Whether the K-quant kernels' preferred-width paths apply (8 or 16 float lanes). */
    static final boolean WIDE = FP.length() == 8 || FP.length() == 16;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    final TensorType type;

    Kernel(TensorType type) { this.type = type; }

    public TensorType type() { return type; }

    /**
     * The activation format llama.cpp quantizes the other operand to before dotting with this
     * type (ggml-cpu.c type_traits_cpu vec_dot_type); see {@link ActivationQuantizer}.
     */
    public ActivationQuantizer.Format activationFormat() {
        return switch (type) {
            case Q8_0, Q4_0, Q5_0, IQ4_NL, MXFP4 -> ActivationQuantizer.Format.Q8_0;
            case Q4_1, Q5_1 -> ActivationQuantizer.Format.Q8_1;
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS -> ActivationQuantizer.Format.Q8_K;
            case F16 -> ActivationQuantizer.Format.F16;
            case BF16 -> ActivationQuantizer.Format.BF16;
            default -> ActivationQuantizer.Format.F32;
        };
    }

    /** Decodes n elements (whole blocks) at byte {@code at}. */
    public void dequantize(MemorySegment m, long at, float[] out, int o, int n) {
        Blocks.dequantize(type, m, at, out, o, n);
    }

    /** Σ row[i]·x[xo+i] for i &lt; n, the row starting at byte {@code at}. */
    public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
        int bs = type.blockSize() == 1 ? 256 : type.blockSize();
        float[] block = SCRATCH.get();
        float sum = 0;
        for (int i = 0; i < n; i += bs) {
            int len = Math.min(bs, n - i);
            long byteOffset = type.bytesFor(i);
            Blocks.dequantize(type, m, at + byteOffset, block, 0, len);
            sum += dotF32(block, 0, x, xo + i, len);
        }
        return sum;
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[256]);

    /**
     * Group size of the activation sums this type's dot product uses (0: none). K-quant values carry
     * an offset or a minimum per group (Σ(sc·q − m)·x = sc·Σq·x − m·Σx), and Σx depends on the
     * activations only: {@link Matrix#matVec} computes it once per product with {@link #groupSums}
     * and hands it to every row's {@link #dot(MemorySegment, long, float[], int, int, float[], int)}.
     */
    public int sumGroup() { return 0; }

    /**
     * {@link #dot(MemorySegment, long, float[], int, int)} given s[so + g] = Σ x[xo + g·group ...] for
     * each group g of {@link #sumGroup} elements (from {@link #groupSums}); the same bits as without.
     * s comes from {@link #groupSumBuffer}: its last {@link #SCRATCH_FLOATS} floats are the kernel's
     * scratch (one buffer per thread, so nothing is allocated per row).
     */
    public float dot(MemorySegment m, long at, float[] x, int xo, int n, float[] s, int so) { return dot(m, at, x, xo, n); }

    /**
     * Whether {@link #dotLanes} applies to rows of n values on this machine: the dot product ends in
     * {@link #sumPreferred} of one 16-lane vector less a scalar, so {@link Matrix} can take the
     * vector unreduced and add up 16 rows' vectors at once ({@link #packedButterflies}, the same
     * bits): on short rows a row's own reduction costs as much as its arithmetic.
     */
    boolean writesLanes(int n) { return false; }

    /**
     * Stores at lanes[lo ..] the vector v (of {@link #FP}'s lanes) and returns the c for which
     * {@link #dot(MemorySegment, long, float[], int, int, float[], int)} is sumPreferred(v) − c
     * (s, so: the group sums as there). Kernels that have it take their dot product through it.
     */
    float dotLanes(MemorySegment m, long at, float[] x, int xo, int n, float[] s, int so, float[] lanes, int lo) {
        throw new UnsupportedOperationException(type + " has no lane output");
    }

    /**
     * Whether {@link #dotLanes8} applies to rows of n values on this machine. It exists for decode's
     * memory traffic, not for arithmetic: a core that reads one row after another keeps too few
     * cache lines in flight to reach the memory's rate while it computes; eight rows far apart in
     * memory, read side by side, are eight streams that the hardware prefetchers follow at once
     * (docs/PERFORMANCE.md, "Eight streams").
     */
    boolean writesLanes8(int n) { return false; }

    /**
     * {@link #dotLanes} of the eight rows at bytes at, at + apart, … at + 7·apart at once, the same
     * bits for each: row k's vector at lanes[lo + 16k ..]. Only for kernels whose {@link #dotLanes}
     * leaves no correction to subtract (no group sums: {@link #sumGroup} 0).
     */
    void dotLanes8(MemorySegment m, long at, long apart, float[] x, int xo, int n, float[] lanes, int lo) {
        throw new UnsupportedOperationException(type + " has no eight-row lane output");
    }

    /** {@link #dotLanes} reduced here: the dot product of one row, the same bits as 16 rows' packed reduction. */
    final float dotThroughLanes(MemorySegment m, long at, float[] x, int xo, int n, float[] s, int so) {
        float[] lanes = LANE_SCRATCH.get();
        float c = dotLanes(m, at, x, xo, n, s, so, lanes, 0);
        return laneSum(lanes, 0) - c;
    }

    private static final ThreadLocal<float[]> LANE_SCRATCH = ThreadLocal.withInitial(() -> new float[FP.length()]);

    /** s[so + g] = the sum of x[xo + g·group, xo + (g+1)·group), added in one fixed order. */
    public static void groupSums(float[] x, int xo, int n, int group, float[] s, int so) {
        int lanes = Math.min(FP.length(), group);
        for (int g = 0; g < n / group; g++) {
            int at = xo + g * group;
            if (lanes == FP.length()) {
                FloatVector v = FloatVector.fromArray(FP, x, at);
                for (int k = lanes; k < group; k += lanes) v = v.add(FloatVector.fromArray(FP, x, at + k));
                s[so + g] = sumPreferred(v);
            } else {
                float sum = 0;
                for (int k = 0; k < group; k++) sum += x[at + k];
                s[so + g] = sum;
            }
        }
    }

    private static final ThreadLocal<float[]> GROUP_SUMS = ThreadLocal.withInitial(() -> new float[64]);

    /** Floats at the end of a group-sum buffer that a kernel may overwrite. */
    static final int SCRATCH_FLOATS = 48;

    /**
     * An array offset as the fused kernels index from it: x[base + 256·b + k]. C2 folds the constant
     * part of such an index into the load's address only where it can prove that the int sum does
     * not overflow; masking the base (and bounding the block count, {@link #blockCount}) gives it
     * that proof. Without it each load took its own add and sign extension, and Q4_K's block loop
     * ran 225 instructions instead of 169 ({@code bench/asm}). No array here nears 2^30 floats; an
     * offset past that is refused.
     */
    static int indexBase(int offset) {
        int base = offset & (1 << 30) - 1;
        if (base != offset) throw new IllegalArgumentException("array offset " + offset + " is outside [0, 2^30)");
        return base;
    }

    /** n / 2^shift whole blocks, at most 2^16 - 1 of them (see {@link #indexBase}); a longer row is refused. */
    static int blockCount(int n, int shift) {
        int blocks = (n >>> shift) & 0xFFFF;
        if (blocks != n >>> shift) throw new IllegalArgumentException("a row of " + n + " values is more than 2^16 - 1 blocks");
        return blocks;
    }

    /** Where a group-sum buffer's sums start: a cache line's start where {@link ArrayAlignment} knows it, else 0. */
    static final int SUMS_AT = ArrayAlignment.FIRST_LINE;

    /** A thread's buffer for n group sums from {@link #SUMS_AT} plus the kernel scratch, which starts a line too where lines are known. */
    static float[] groupSumBuffer(ThreadLocal<float[]> buffers, int n) { return ArrayAlignment.buffer(buffers, n, SCRATCH_FLOATS); }

    /** The dot product of a kernel with group sums, computing them first (a one-off product). */
    final float dotWithSums(MemorySegment m, long at, float[] x, int xo, int n) {
        int group = sumGroup();
        float[] s = groupSumBuffer(GROUP_SUMS, n / group);
        groupSums(x, xo, n, group, s, SUMS_AT);
        return dot(m, at, x, xo, n, s, SUMS_AT);
    }

    /** The kernel of a stored type (one shared instance per type: kernels keep no state). */
    public static Kernel of(TensorType type) { return ByType.KERNELS[type.ordinal()]; }

    private static final class ByType {
        static final Kernel[] KERNELS = new Kernel[TensorType.values().length];
        static {
            for (TensorType t : TensorType.values()) KERNELS[t.ordinal()] = create(t);
        }
    }

    private static Kernel create(TensorType type) {
        return switch (type) {
            case F32 -> new F32Kernel();
            case BF16 -> new Bf16Kernel();
            case F16 -> new F16Kernel();
            case Q8_0 -> new Q8Kernel();
            case Q4_0 -> new Q4Kernel();
            case Q5_0 -> new Q5Kernel();
            case Q4_1 -> new Q41Kernel();
            case Q5_1 -> new Q51Kernel();
            case MXFP4 -> new Mxfp4Kernel();
            case IQ4_NL -> new Iq4NlKernel();
            case Q4_K -> new Q4KKernel();
            case Q2_K -> new Q2KKernel();
            case Q3_K -> new Q3KKernel();
            case Q5_K -> new Q5KKernel();
            case Q6_K -> new Q6KKernel();
            default -> new Kernel(type) {};
        };
    }

    /**
     * The lanes of {@code v} added in one fixed order. {@code reduceLanes(ADD)} leaves the order to
     * the implementation, and the JIT's order differs from the interpreter's, so the same input could
     * give different last bits before and after warm-up; this does not. A butterfly: each step adds
     * lane i and lane i XOR step. (It is a method with vector arguments, so it must be inlined to be
     * fast: bin/moescope passes -XX:CompileCommand=inline,org.moescope.tensor.Kernel::sum*.)
     */
    public static float sum(FloatVector v) {
        if (v.length() != 8) return sumInOrder(v);
        FloatVector a = v.add(v.rearrange(X4_8));
        a = a.add(a.rearrange(X2_8));
        return a.add(a.rearrange(X1_8)).lane(0);
    }

    /**
     * {@link #sum} for vectors of the preferred species (FP). A separate method so that each sees
     * one vector class: a call site that sees two cannot keep its vectors in registers.
     */
    public static float sumPreferred(FloatVector v) {
        if (v.length() != 16) return v.length() == 8 ? sum(v) : sumInOrder(v);
        FloatVector a = v.add(v.rearrange(X8_16));
        a = a.add(a.rearrange(X4_16));
        a = a.add(a.rearrange(X2_16));
        return a.add(a.rearrange(X1_16)).lane(0);
    }

    private static float sumInOrder(FloatVector v) {
        float s = 0;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    private static VectorShuffle<Float> xor(VectorSpecies<Float> species, int step) {
        return VectorShuffle.fromOp(species, i -> i ^ step);
    }

    private static final VectorShuffle<Float> X4_8 = xor(FloatVector.SPECIES_256, 4), X2_8 = xor(FloatVector.SPECIES_256, 2),
            X1_8 = xor(FloatVector.SPECIES_256, 1);
    private static final VectorShuffle<Float> X8_16 = xor(FloatVector.SPECIES_512, 8), X4_16 = xor(FloatVector.SPECIES_512, 4),
            X2_16 = xor(FloatVector.SPECIES_512, 2), X1_16 = xor(FloatVector.SPECIES_512, 1);
    /** Floats of the array {@link #dot4x4} reduces its tile in: 16 accumulators of 16 lanes, then their 16 sums. */
    public static final int TILE_LANES = 16 * 16 + 16;

    /**
     * The sixteen 16-lane vectors at a[16k ..] (k &lt; 16) each added up as {@link #sumPreferred} adds
     * one (the same butterfly, so the same bits), all at once, into a[256 ..]: after each step that
     * halves the lanes in use, two vectors are packed into one by a blend, so the 16 sums take 75
     * vector operations instead of 240 scalar additions. The sum of vector k lands in
     * a[256 + LANE_OF[k]]. It must be compiled on its own, not inlined into its caller (past C2's
     * inlining budget there its blends would not be intrinsified): bin/moescope and the tests pass
     * -XX:CompileCommand=dontinline,org.moescope.tensor.Kernel::packedButterflies.
     */
    static void packedButterflies(float[] a) { packedButterflies(a, 0); }

    /** {@link #packedButterflies} of the vectors at a[o + 16k ..], the sums to a[o + 256 ..]. */
    static void packedButterflies(float[] a, int o) {
        FloatVector p0 = sumStep8(a, o), p1 = sumStep8(a, o + 32), p2 = sumStep8(a, o + 64), p3 = sumStep8(a, o + 96);
        FloatVector p4 = sumStep8(a, o + 128), p5 = sumStep8(a, o + 160), p6 = sumStep8(a, o + 192), p7 = sumStep8(a, o + 224);
        FloatVector q0 = p0.add(p0.rearrange(X4_16)).blend(p1.add(p1.rearrange(X4_16)), ODD4);
        FloatVector q1 = p2.add(p2.rearrange(X4_16)).blend(p3.add(p3.rearrange(X4_16)), ODD4);
        FloatVector q2 = p4.add(p4.rearrange(X4_16)).blend(p5.add(p5.rearrange(X4_16)), ODD4);
        FloatVector q3 = p6.add(p6.rearrange(X4_16)).blend(p7.add(p7.rearrange(X4_16)), ODD4);
        FloatVector r0 = q0.add(q0.rearrange(X2_16)).blend(q1.add(q1.rearrange(X2_16)), ODD2);
        FloatVector r1 = q2.add(q2.rearrange(X2_16)).blend(q3.add(q3.rearrange(X2_16)), ODD2);
        r0.add(r0.rearrange(X1_16)).blend(r1.add(r1.rearrange(X1_16)), ODD1).intoArray(a, o + 256);
    }

    /**
     * out[o + k] = the sum of the 16-lane vector at a[16k ..] for k &lt; 16, each the same bits as
     * {@link #sumPreferred} of that vector ({@link #packedButterflies}; a holds {@link #TILE_LANES}
     * floats and is overwritten). Only where {@link #FP} has 16 lanes.
     */
    public static void sums16(float[] a, float[] out, int o) {
        packedButterflies(a);
        for (int k = 0; k < 16; k++) out[o + k] = a[256 + LANE_OF[k]];
    }

    /** Vectors at a[o] and a[o + 16] after the butterfly's first step: the first's 8 sums in lanes 0-7, the second's in 8-15. */
    private static FloatVector sumStep8(float[] a, int o) {
        FloatVector u = FloatVector.fromArray(FloatVector.SPECIES_512, a, o), v = FloatVector.fromArray(FloatVector.SPECIES_512, a, o + 16);
        return u.add(u.rearrange(X8_16)).blend(v.add(v.rearrange(X8_16)), HIGH8);
    }

    /** Lanes taken from the second vector at each packing step of {@link #packedButterflies}. */
    private static final VectorMask<Float> HIGH8 = VectorMask.fromLong(FloatVector.SPECIES_512, 0xFF00L),
            ODD4 = VectorMask.fromLong(FloatVector.SPECIES_512, 0xF0F0L), ODD2 = VectorMask.fromLong(FloatVector.SPECIES_512, 0xCCCCL),
            ODD1 = VectorMask.fromLong(FloatVector.SPECIES_512, 0xAAAAL);

    /**
     * Where {@link #packedButterflies} leaves vector k's sum: lane 2m + (k ≥ 8) holds vector
     * 8·(k ≥ 8) + reverse3(m), reverse3 reversing three bits (its own inverse).
     */
    static final int[] LANE_OF = new int[16];
    static {
        for (int k = 0; k < 16; k++) {
            int low = k & 7, reversed = (low & 1) << 2 | (low & 2) | (low >> 2);
            LANE_OF[k] = 2 * reversed + (k >> 3);
        }
    }

    /** The {@link #FP}-many floats at a[o ..] added as {@link #sumPreferred} adds a vector's lanes (the same bits). */
    static float laneSum(float[] a, int o) {
        if (FP.length() == 16) return butterfly16(a, o);
        if (FP.length() != 8) {
            float sum = 0;
            for (int i = 0; i < FP.length(); i++) sum += a[o + i];
            return sum;
        }
        float t0 = a[o] + a[o + 4], t1 = a[o + 1] + a[o + 5], t2 = a[o + 2] + a[o + 6], t3 = a[o + 3] + a[o + 7];
        return (t0 + t2) + (t1 + t3);
    }

    /** The 16 floats at a[o ..] added as {@link #sumPreferred} adds a 16-lane vector's lanes (the same bits). */
    static float butterfly16(float[] a, int o) {
        float t0 = a[o] + a[o + 8], t1 = a[o + 1] + a[o + 9], t2 = a[o + 2] + a[o + 10], t3 = a[o + 3] + a[o + 11];
        float t4 = a[o + 4] + a[o + 12], t5 = a[o + 5] + a[o + 13], t6 = a[o + 6] + a[o + 14], t7 = a[o + 7] + a[o + 15];
        float u0 = t0 + t4, u1 = t1 + t5, u2 = t2 + t6, u3 = t3 + t7;
        return (u0 + u2) + (u1 + u3);
    }

    /** Vector dot product of float arrays. */
    public static float dotF32(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float sum = 0;
        int bound = FP.loopBound(n);
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(FP);
            for (; i < bound; i += FP.length()) acc = FloatVector.fromArray(FP, a, ao + i).fma(FloatVector.fromArray(FP, b, bo + i), acc);
            sum = sumPreferred(acc);
        }
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
    }

    /**
     * {@link #dot4} for four weight rows at once (row k at w[wo + k·n ..][.. n]), writing y[yo + k + t·yStride]
     * for rows k and tokens t &lt; 4: 16 accumulators, each accumulated exactly as dot4 accumulates it
     * (same lanes, same order, same reduction), with 8 loads per 16 FMAs instead of 5 per 4.
     * {@code lanes} is scratch of {@link #TILE_LANES} floats.
     */
    static void dot4x4(float[] w, int wo, float[] x, int xo, int xStride, int n, float[] y, int yo, int yStride, float[] lanes) {
        FloatVector a0 = FloatVector.zero(FP), a1 = FloatVector.zero(FP), a2 = FloatVector.zero(FP), a3 = FloatVector.zero(FP);
        FloatVector b0 = FloatVector.zero(FP), b1 = FloatVector.zero(FP), b2 = FloatVector.zero(FP), b3 = FloatVector.zero(FP);
        FloatVector c0 = FloatVector.zero(FP), c1 = FloatVector.zero(FP), c2 = FloatVector.zero(FP), c3 = FloatVector.zero(FP);
        FloatVector d0 = FloatVector.zero(FP), d1 = FloatVector.zero(FP), d2 = FloatVector.zero(FP), d3 = FloatVector.zero(FP);
        int bound = FP.loopBound(n);
        for (int i = 0; i < bound; i += FP.length()) {
            FloatVector w0 = FloatVector.fromArray(FP, w, wo + i), w1 = FloatVector.fromArray(FP, w, wo + n + i);
            FloatVector w2 = FloatVector.fromArray(FP, w, wo + 2 * n + i), w3 = FloatVector.fromArray(FP, w, wo + 3 * n + i);
            FloatVector x0 = FloatVector.fromArray(FP, x, xo + i);
            a0 = w0.fma(x0, a0);
            b0 = w1.fma(x0, b0);
            c0 = w2.fma(x0, c0);
            d0 = w3.fma(x0, d0);
            FloatVector x1 = FloatVector.fromArray(FP, x, xo + xStride + i);
            a1 = w0.fma(x1, a1);
            b1 = w1.fma(x1, b1);
            c1 = w2.fma(x1, c1);
            d1 = w3.fma(x1, d1);
            FloatVector x2 = FloatVector.fromArray(FP, x, xo + 2 * xStride + i);
            a2 = w0.fma(x2, a2);
            b2 = w1.fma(x2, b2);
            c2 = w2.fma(x2, c2);
            d2 = w3.fma(x2, d2);
            FloatVector x3 = FloatVector.fromArray(FP, x, xo + 3 * xStride + i);
            a3 = w0.fma(x3, a3);
            b3 = w1.fma(x3, b3);
            c3 = w2.fma(x3, c3);
            d3 = w3.fma(x3, d3);
        }
        if (FP.length() == 16) {
            // reduced from an array, in sumPreferred's order: sixteen inlined butterflies are past what
            // C2 keeps in registers here, and a vector it does not is allocated on every call
            a0.intoArray(lanes, 0); a1.intoArray(lanes, 16); a2.intoArray(lanes, 32); a3.intoArray(lanes, 48);
            b0.intoArray(lanes, 64); b1.intoArray(lanes, 80); b2.intoArray(lanes, 96); b3.intoArray(lanes, 112);
            c0.intoArray(lanes, 128); c1.intoArray(lanes, 144); c2.intoArray(lanes, 160); c3.intoArray(lanes, 176);
            d0.intoArray(lanes, 192); d1.intoArray(lanes, 208); d2.intoArray(lanes, 224); d3.intoArray(lanes, 240);
            packedButterflies(lanes);
            for (int k = 0; k < 4; k++) {
                finish4(w, wo + k * n, x, xo, xStride, n, bound, lanes[256 + LANE_OF[4 * k]], lanes[256 + LANE_OF[4 * k + 1]],
                        lanes[256 + LANE_OF[4 * k + 2]], lanes[256 + LANE_OF[4 * k + 3]], y, yo + k, yStride);
            }
            return;
        }
        if (FP.length() == 8) {
            // AVX2: the same, with a scalar butterfly per 8-lane vector (laneSum: sumPreferred's order);
            // sixteen inlined 8-lane butterflies here were allocated on every call as well
            a0.intoArray(lanes, 0); a1.intoArray(lanes, 8); a2.intoArray(lanes, 16); a3.intoArray(lanes, 24);
            b0.intoArray(lanes, 32); b1.intoArray(lanes, 40); b2.intoArray(lanes, 48); b3.intoArray(lanes, 56);
            c0.intoArray(lanes, 64); c1.intoArray(lanes, 72); c2.intoArray(lanes, 80); c3.intoArray(lanes, 88);
            d0.intoArray(lanes, 96); d1.intoArray(lanes, 104); d2.intoArray(lanes, 112); d3.intoArray(lanes, 120);
            for (int k = 0; k < 4; k++) {
                finish4(w, wo + k * n, x, xo, xStride, n, bound, laneSum(lanes, 32 * k), laneSum(lanes, 32 * k + 8),
                        laneSum(lanes, 32 * k + 16), laneSum(lanes, 32 * k + 24), y, yo + k, yStride);
            }
            return;
        }
        // the reductions and any tail, row by row, as dot4 finishes them
        finish4(w, wo, x, xo, xStride, n, bound, sumPreferred(a0), sumPreferred(a1), sumPreferred(a2), sumPreferred(a3), y, yo, yStride);
        finish4(w, wo + n, x, xo, xStride, n, bound, sumPreferred(b0), sumPreferred(b1), sumPreferred(b2), sumPreferred(b3), y, yo + 1, yStride);
        finish4(w, wo + 2 * n, x, xo, xStride, n, bound, sumPreferred(c0), sumPreferred(c1), sumPreferred(c2), sumPreferred(c3), y, yo + 2, yStride);
        finish4(w, wo + 3 * n, x, xo, xStride, n, bound, sumPreferred(d0), sumPreferred(d1), sumPreferred(d2), sumPreferred(d3), y, yo + 3, yStride);
    }

    private static void finish4(float[] w, int wo, float[] x, int xo, int xStride, int n, int from, float s0, float s1, float s2, float s3,
            float[] y, int yo, int yStride) {
        for (int i = from; i < n; i++) {
            s0 += w[wo + i] * x[xo + i];
            s1 += w[wo + i] * x[xo + xStride + i];
            s2 += w[wo + i] * x[xo + 2 * xStride + i];
            s3 += w[wo + i] * x[xo + 3 * xStride + i];
        }
        y[yo] = s0;
        y[yo + yStride] = s1;
        y[yo + 2 * yStride] = s2;
        y[yo + 3 * yStride] = s3;
    }

    /**
     * Prefill with tokens in the lanes: out[oo + k·os + j] = Σ_c w[k·n + c] · xt[c·tp + t0 + j] for 8
     * decoded weight rows k and 16 tokens j, the activations transposed (xt[c·tp + t] is token t's
     * value c). Each weight is broadcast against 16 tokens at once, so there is no lane reduction
     * at all (a 4×4 tile of row-major dot products spends a quarter of its operations adding up
     * lanes on 256-value rows); eight accumulators keep both FMA units busy. AVX-512 only (16 lanes).
     */
    static void rows8Tokens16(float[] w, int n, float[] xt, int tp, int t0, float[] out, int oo, int os) {
        FloatVector a0 = FloatVector.zero(FP), a1 = FloatVector.zero(FP), a2 = FloatVector.zero(FP), a3 = FloatVector.zero(FP);
        FloatVector a4 = FloatVector.zero(FP), a5 = FloatVector.zero(FP), a6 = FloatVector.zero(FP), a7 = FloatVector.zero(FP);
        for (int c = 0, at = t0; c < n; c++, at += tp) {
            FloatVector v = FloatVector.fromArray(FP, xt, at);
            a0 = FloatVector.broadcast(FP, w[c]).fma(v, a0);
            a1 = FloatVector.broadcast(FP, w[n + c]).fma(v, a1);
            a2 = FloatVector.broadcast(FP, w[2 * n + c]).fma(v, a2);
            a3 = FloatVector.broadcast(FP, w[3 * n + c]).fma(v, a3);
            a4 = FloatVector.broadcast(FP, w[4 * n + c]).fma(v, a4);
            a5 = FloatVector.broadcast(FP, w[5 * n + c]).fma(v, a5);
            a6 = FloatVector.broadcast(FP, w[6 * n + c]).fma(v, a6);
            a7 = FloatVector.broadcast(FP, w[7 * n + c]).fma(v, a7);
        }
        a0.intoArray(out, oo);
        a1.intoArray(out, oo + os);
        a2.intoArray(out, oo + 2 * os);
        a3.intoArray(out, oo + 3 * os);
        a4.intoArray(out, oo + 4 * os);
        a5.intoArray(out, oo + 5 * os);
        a6.intoArray(out, oo + 6 * os);
        a7.intoArray(out, oo + 7 * os);
    }

    /**
     * The fixed distance between the decoded weight rows of {@link #rows8Tokens32Strided} and
     * {@link #rows8Tokens16Strided}: a constant, so that each of the eight broadcasts addresses
     * its row as the column's index plus a displacement in the instruction. With the distance a
     * variable (rows back to back, {@link #rows8Tokens16}) C2 spends an address computation per row
     * and, short of registers, keeps one on the stack: 30 instructions a column for 8
     * multiply-adds, 56–65 G multiply-adds a second on one thread where the same tile with
     * constant offsets reaches 74–84 (and 8 rows × 32 tokens 80–100) of the 117 that the FMA units
     * can do. One line more than 16 Ki floats: rows of up to 16 384 values, and rows a line apart
     * in the L1's sets rather than all in one. The tiles over such rows are written out, one method
     * per shape (8 or 12 rows, 16 or 32 tokens): accumulators kept in an array, or a shared body
     * with a row count, are allocated or spilled, where named locals stay in registers.
     */
    static final int ROW_STRIDE = (1 << 14) + 16;

    /**
     * {@link #rows8Tokens16} for 8 decoded weight rows {@link #ROW_STRIDE} apart from w[wo] and 32
     * tokens (two groups of 16 lanes, at t0 and t0 + 16): each broadcast weight meets two token
     * vectors (10 loads for 16 multiply-adds), 16 accumulators. The same bits per output.
     */
    static void rows8Tokens32Strided(float[] w, int wo, int n, float[] xt, int tp, int t0, float[] out, int oo, int os) {
        final int s = ROW_STRIDE;
        FloatVector a0 = FloatVector.zero(FP), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        for (int c = 0, at = t0; c < n; c++, at += tp) {
            int i = wo + c;
            FloatVector v = FloatVector.fromArray(FP, xt, at), u = FloatVector.fromArray(FP, xt, at + 16);
            FloatVector w0 = FloatVector.broadcast(FP, w[i]);
            a0 = w0.fma(v, a0);
            b0 = w0.fma(u, b0);
            FloatVector w1 = FloatVector.broadcast(FP, w[i + s]);
            a1 = w1.fma(v, a1);
            b1 = w1.fma(u, b1);
            FloatVector w2 = FloatVector.broadcast(FP, w[i + 2 * s]);
            a2 = w2.fma(v, a2);
            b2 = w2.fma(u, b2);
            FloatVector w3 = FloatVector.broadcast(FP, w[i + 3 * s]);
            a3 = w3.fma(v, a3);
            b3 = w3.fma(u, b3);
            FloatVector w4 = FloatVector.broadcast(FP, w[i + 4 * s]);
            a4 = w4.fma(v, a4);
            b4 = w4.fma(u, b4);
            FloatVector w5 = FloatVector.broadcast(FP, w[i + 5 * s]);
            a5 = w5.fma(v, a5);
            b5 = w5.fma(u, b5);
            FloatVector w6 = FloatVector.broadcast(FP, w[i + 6 * s]);
            a6 = w6.fma(v, a6);
            b6 = w6.fma(u, b6);
            FloatVector w7 = FloatVector.broadcast(FP, w[i + 7 * s]);
            a7 = w7.fma(v, a7);
            b7 = w7.fma(u, b7);
        }
        a0.intoArray(out, oo);
        b0.intoArray(out, oo + 16);
        a1.intoArray(out, oo + os);
        b1.intoArray(out, oo + os + 16);
        a2.intoArray(out, oo + 2 * os);
        b2.intoArray(out, oo + 2 * os + 16);
        a3.intoArray(out, oo + 3 * os);
        b3.intoArray(out, oo + 3 * os + 16);
        a4.intoArray(out, oo + 4 * os);
        b4.intoArray(out, oo + 4 * os + 16);
        a5.intoArray(out, oo + 5 * os);
        b5.intoArray(out, oo + 5 * os + 16);
        a6.intoArray(out, oo + 6 * os);
        b6.intoArray(out, oo + 6 * os + 16);
        a7.intoArray(out, oo + 7 * os);
        b7.intoArray(out, oo + 7 * os + 16);
    }

    /**
     * {@link #rows8Tokens32Strided} for 12 decoded weight rows {@link #ROW_STRIDE} apart from w[wo]:
     * 24 accumulators, 14 loads for 24 multiply-adds. The same bits per output.
     */
    static void rows12Tokens32Strided(float[] w, int wo, int n, float[] xt, int tp, int t0, float[] out, int oo, int os) {
        final int s = ROW_STRIDE;
        FloatVector a0 = FloatVector.zero(FP);
        FloatVector b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0, a4 = a0;
        FloatVector b4 = a0, a5 = a0, b5 = a0, a6 = a0, b6 = a0, a7 = a0, b7 = a0, a8 = a0;
        FloatVector b8 = a0, a9 = a0, b9 = a0, a10 = a0, b10 = a0, a11 = a0, b11 = a0;
        for (int c = 0, at = t0; c < n; c++, at += tp) {
            int i = wo + c;
            FloatVector v = FloatVector.fromArray(FP, xt, at), u = FloatVector.fromArray(FP, xt, at + 16);
            FloatVector w0 = FloatVector.broadcast(FP, w[i]);
            a0 = w0.fma(v, a0);
            b0 = w0.fma(u, b0);
            FloatVector w1 = FloatVector.broadcast(FP, w[i + s]);
            a1 = w1.fma(v, a1);
            b1 = w1.fma(u, b1);
            FloatVector w2 = FloatVector.broadcast(FP, w[i + 2 * s]);
            a2 = w2.fma(v, a2);
            b2 = w2.fma(u, b2);
            FloatVector w3 = FloatVector.broadcast(FP, w[i + 3 * s]);
            a3 = w3.fma(v, a3);
            b3 = w3.fma(u, b3);
            FloatVector w4 = FloatVector.broadcast(FP, w[i + 4 * s]);
            a4 = w4.fma(v, a4);
            b4 = w4.fma(u, b4);
            FloatVector w5 = FloatVector.broadcast(FP, w[i + 5 * s]);
            a5 = w5.fma(v, a5);
            b5 = w5.fma(u, b5);
            FloatVector w6 = FloatVector.broadcast(FP, w[i + 6 * s]);
            a6 = w6.fma(v, a6);
            b6 = w6.fma(u, b6);
            FloatVector w7 = FloatVector.broadcast(FP, w[i + 7 * s]);
            a7 = w7.fma(v, a7);
            b7 = w7.fma(u, b7);
            FloatVector w8 = FloatVector.broadcast(FP, w[i + 8 * s]);
            a8 = w8.fma(v, a8);
            b8 = w8.fma(u, b8);
            FloatVector w9 = FloatVector.broadcast(FP, w[i + 9 * s]);
            a9 = w9.fma(v, a9);
            b9 = w9.fma(u, b9);
            FloatVector w10 = FloatVector.broadcast(FP, w[i + 10 * s]);
            a10 = w10.fma(v, a10);
            b10 = w10.fma(u, b10);
            FloatVector w11 = FloatVector.broadcast(FP, w[i + 11 * s]);
            a11 = w11.fma(v, a11);
            b11 = w11.fma(u, b11);
        }
        a0.intoArray(out, oo);
        b0.intoArray(out, oo + 16);
        a1.intoArray(out, oo + os);
        b1.intoArray(out, oo + os + 16);
        a2.intoArray(out, oo + 2 * os);
        b2.intoArray(out, oo + 2 * os + 16);
        a3.intoArray(out, oo + 3 * os);
        b3.intoArray(out, oo + 3 * os + 16);
        a4.intoArray(out, oo + 4 * os);
        b4.intoArray(out, oo + 4 * os + 16);
        a5.intoArray(out, oo + 5 * os);
        b5.intoArray(out, oo + 5 * os + 16);
        a6.intoArray(out, oo + 6 * os);
        b6.intoArray(out, oo + 6 * os + 16);
        a7.intoArray(out, oo + 7 * os);
        b7.intoArray(out, oo + 7 * os + 16);
        a8.intoArray(out, oo + 8 * os);
        b8.intoArray(out, oo + 8 * os + 16);
        a9.intoArray(out, oo + 9 * os);
        b9.intoArray(out, oo + 9 * os + 16);
        a10.intoArray(out, oo + 10 * os);
        b10.intoArray(out, oo + 10 * os + 16);
        a11.intoArray(out, oo + 11 * os);
        b11.intoArray(out, oo + 11 * os + 16);
    }

    /** {@link #rows8Tokens16Strided} for 12 decoded weight rows {@link #ROW_STRIDE} apart from w[wo]. The same bits per output. */
    static void rows12Tokens16Strided(float[] w, int wo, int n, float[] xt, int tp, int t0, float[] out, int oo, int os) {
        final int s = ROW_STRIDE;
        FloatVector a0 = FloatVector.zero(FP);
        FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0;
        FloatVector a9 = a0, a10 = a0, a11 = a0;
        for (int c = 0, at = t0; c < n; c++, at += tp) {
            int i = wo + c;
            FloatVector v = FloatVector.fromArray(FP, xt, at);
            a0 = FloatVector.broadcast(FP, w[i]).fma(v, a0);
            a1 = FloatVector.broadcast(FP, w[i + s]).fma(v, a1);
            a2 = FloatVector.broadcast(FP, w[i + 2 * s]).fma(v, a2);
            a3 = FloatVector.broadcast(FP, w[i + 3 * s]).fma(v, a3);
            a4 = FloatVector.broadcast(FP, w[i + 4 * s]).fma(v, a4);
            a5 = FloatVector.broadcast(FP, w[i + 5 * s]).fma(v, a5);
            a6 = FloatVector.broadcast(FP, w[i + 6 * s]).fma(v, a6);
            a7 = FloatVector.broadcast(FP, w[i + 7 * s]).fma(v, a7);
            a8 = FloatVector.broadcast(FP, w[i + 8 * s]).fma(v, a8);
            a9 = FloatVector.broadcast(FP, w[i + 9 * s]).fma(v, a9);
            a10 = FloatVector.broadcast(FP, w[i + 10 * s]).fma(v, a10);
            a11 = FloatVector.broadcast(FP, w[i + 11 * s]).fma(v, a11);
        }
        a0.intoArray(out, oo);
        a1.intoArray(out, oo + os);
        a2.intoArray(out, oo + 2 * os);
        a3.intoArray(out, oo + 3 * os);
        a4.intoArray(out, oo + 4 * os);
        a5.intoArray(out, oo + 5 * os);
        a6.intoArray(out, oo + 6 * os);
        a7.intoArray(out, oo + 7 * os);
        a8.intoArray(out, oo + 8 * os);
        a9.intoArray(out, oo + 9 * os);
        a10.intoArray(out, oo + 10 * os);
        a11.intoArray(out, oo + 11 * os);
    }

    /** {@link #rows8Tokens16} for 8 decoded weight rows {@link #ROW_STRIDE} apart from w[wo]. The same bits per output. */
    static void rows8Tokens16Strided(float[] w, int wo, int n, float[] xt, int tp, int t0, float[] out, int oo, int os) {
        final int s = ROW_STRIDE;
        FloatVector a0 = FloatVector.zero(FP), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int c = 0, at = t0; c < n; c++, at += tp) {
            int i = wo + c;
            FloatVector v = FloatVector.fromArray(FP, xt, at);
            a0 = FloatVector.broadcast(FP, w[i]).fma(v, a0);
            a1 = FloatVector.broadcast(FP, w[i + s]).fma(v, a1);
            a2 = FloatVector.broadcast(FP, w[i + 2 * s]).fma(v, a2);
            a3 = FloatVector.broadcast(FP, w[i + 3 * s]).fma(v, a3);
            a4 = FloatVector.broadcast(FP, w[i + 4 * s]).fma(v, a4);
            a5 = FloatVector.broadcast(FP, w[i + 5 * s]).fma(v, a5);
            a6 = FloatVector.broadcast(FP, w[i + 6 * s]).fma(v, a6);
            a7 = FloatVector.broadcast(FP, w[i + 7 * s]).fma(v, a7);
        }
        a0.intoArray(out, oo);
        a1.intoArray(out, oo + os);
        a2.intoArray(out, oo + 2 * os);
        a3.intoArray(out, oo + 3 * os);
        a4.intoArray(out, oo + 4 * os);
        a5.intoArray(out, oo + 5 * os);
        a6.intoArray(out, oo + 6 * os);
        a7.intoArray(out, oo + 7 * os);
    }

    /**
     * Where every token-lane layout (xt[LANES_AT + c·tp + t], yt[LANES_AT + r·tp + t]) starts in its
     * array, and the decoded rows of {@link Matrix#matMulTokens}: the first float on a cache line
     * ({@link ArrayAlignment#FIRST_LINE}), so that each 16-lane load and store touches one line, not
     * two. From the array's start the tiles ran 6–14 % slower (every activation load split), and
     * the decoding of weight rows stored every vector across two lines.
     */
    static final int LANES_AT = ArrayAlignment.FIRST_LINE;

    /**
     * xt[LANES_AT + c·tp + t] = x[xo + t·xStride + c] for columns c and tokens t, zero for tokens ≤ t &lt; tp (a
     * multiple of 16): whole groups of 16 tokens 16 columns at a time by {@link #transpose16} (2.4×
     * the speed of a gather per column, which was a third of the time of scalar copies), columns
     * left over by gathers, tokens left over one by one.
     */
    static void transposeTokens(float[] x, int xo, int xStride, int tokens, int columns, float[] xt, int tp) {
        transposeTokens(x, xo, xStride, tokens, columns, xt, tp, 0, tp);
    }

    /** {@link #transposeTokens} of lanes [laneFrom, laneTo) only (multiples of 16): a part of the tokens, for one thread. */
    static void transposeTokens(float[] x, int xo, int xStride, int tokens, int columns, float[] xt, int tp, int laneFrom, int laneTo) {
        int[] offsets = GATHER_OFFSETS.get();
        for (int j = 0; j < 16; j++) offsets[j] = j * xStride;
        int full = Math.min(laneTo, tokens & ~15), t0 = laneFrom, blocks = FP.length() == 16 ? columns & ~15 : 0;
        for (; t0 < full; t0 += 16) {
            int base = xo + t0 * xStride;
            for (int c = 0; c < blocks; c += 16) transpose16(x, base + c, xStride, xt, LANES_AT + c * tp + t0, tp);
            for (int c = blocks, at = LANES_AT + blocks * tp + t0; c < columns; c++, at += tp) FloatVector.fromArray(FP, x, base + c, offsets, 0).intoArray(xt, at);
        }
        if (t0 < laneTo) {
            int last = Math.min(tokens, laneTo);
            for (int c = 0, at = LANES_AT + t0; c < columns; c++, at += tp) {
                for (int t = t0; t < last; t++) xt[at + t - t0] = x[xo + t * xStride + c];
                for (int t = Math.max(t0, last); t < laneTo; t++) xt[at + t - t0] = 0;
            }
        }
    }

    /**
     * A 16 × 16 transpose in registers: dst[d0 + l·dStride + i] = src[s0 + i·sStride + l] for i, l &lt; 16.
     * Four rounds of two-vector permutes (round k swaps the off-diagonal blocks of size 8 &gt;&gt; k):
     * 16 loads, 64 permutes and 16 stores, 2.4× the speed of 16 gathers. Written out: vectors kept
     * in an array are allocated.
     */
    static void transpose16(float[] src, int s0, int sStride, float[] dst, int d0, int dStride) {
        FloatVector r0 = FloatVector.fromArray(FP, src, s0 + 0 * sStride);
        FloatVector r1 = FloatVector.fromArray(FP, src, s0 + 1 * sStride);
        FloatVector r2 = FloatVector.fromArray(FP, src, s0 + 2 * sStride);
        FloatVector r3 = FloatVector.fromArray(FP, src, s0 + 3 * sStride);
        FloatVector r4 = FloatVector.fromArray(FP, src, s0 + 4 * sStride);
        FloatVector r5 = FloatVector.fromArray(FP, src, s0 + 5 * sStride);
        FloatVector r6 = FloatVector.fromArray(FP, src, s0 + 6 * sStride);
        FloatVector r7 = FloatVector.fromArray(FP, src, s0 + 7 * sStride);
        FloatVector r8 = FloatVector.fromArray(FP, src, s0 + 8 * sStride);
        FloatVector r9 = FloatVector.fromArray(FP, src, s0 + 9 * sStride);
        FloatVector r10 = FloatVector.fromArray(FP, src, s0 + 10 * sStride);
        FloatVector r11 = FloatVector.fromArray(FP, src, s0 + 11 * sStride);
        FloatVector r12 = FloatVector.fromArray(FP, src, s0 + 12 * sStride);
        FloatVector r13 = FloatVector.fromArray(FP, src, s0 + 13 * sStride);
        FloatVector r14 = FloatVector.fromArray(FP, src, s0 + 14 * sStride);
        FloatVector r15 = FloatVector.fromArray(FP, src, s0 + 15 * sStride);
        { FloatVector a = r0, b = r8; r0 = TRANSPOSE_LOW[0].selectFrom(a, b); r8 = TRANSPOSE_HIGH[0].selectFrom(a, b); }
        { FloatVector a = r1, b = r9; r1 = TRANSPOSE_LOW[0].selectFrom(a, b); r9 = TRANSPOSE_HIGH[0].selectFrom(a, b); }
        { FloatVector a = r2, b = r10; r2 = TRANSPOSE_LOW[0].selectFrom(a, b); r10 = TRANSPOSE_HIGH[0].selectFrom(a, b); }
        { FloatVector a = r3, b = r11; r3 = TRANSPOSE_LOW[0].selectFrom(a, b); r11 = TRANSPOSE_HIGH[0].selectFrom(a, b); }
        { FloatVector a = r4, b = r12; r4 = TRANSPOSE_LOW[0].selectFrom(a, b); r12 = TRANSPOSE_HIGH[0].selectFrom(a, b); }
        { FloatVector a = r5, b = r13; r5 = TRANSPOSE_LOW[0].selectFrom(a, b); r13 = TRANSPOSE_HIGH[0].selectFrom(a, b); }
        { FloatVector a = r6, b = r14; r6 = TRANSPOSE_LOW[0].selectFrom(a, b); r14 = TRANSPOSE_HIGH[0].selectFrom(a, b); }
        { FloatVector a = r7, b = r15; r7 = TRANSPOSE_LOW[0].selectFrom(a, b); r15 = TRANSPOSE_HIGH[0].selectFrom(a, b); }
        { FloatVector a = r0, b = r4; r0 = TRANSPOSE_LOW[1].selectFrom(a, b); r4 = TRANSPOSE_HIGH[1].selectFrom(a, b); }
        { FloatVector a = r1, b = r5; r1 = TRANSPOSE_LOW[1].selectFrom(a, b); r5 = TRANSPOSE_HIGH[1].selectFrom(a, b); }
        { FloatVector a = r2, b = r6; r2 = TRANSPOSE_LOW[1].selectFrom(a, b); r6 = TRANSPOSE_HIGH[1].selectFrom(a, b); }
        { FloatVector a = r3, b = r7; r3 = TRANSPOSE_LOW[1].selectFrom(a, b); r7 = TRANSPOSE_HIGH[1].selectFrom(a, b); }
        { FloatVector a = r8, b = r12; r8 = TRANSPOSE_LOW[1].selectFrom(a, b); r12 = TRANSPOSE_HIGH[1].selectFrom(a, b); }
        { FloatVector a = r9, b = r13; r9 = TRANSPOSE_LOW[1].selectFrom(a, b); r13 = TRANSPOSE_HIGH[1].selectFrom(a, b); }
        { FloatVector a = r10, b = r14; r10 = TRANSPOSE_LOW[1].selectFrom(a, b); r14 = TRANSPOSE_HIGH[1].selectFrom(a, b); }
        { FloatVector a = r11, b = r15; r11 = TRANSPOSE_LOW[1].selectFrom(a, b); r15 = TRANSPOSE_HIGH[1].selectFrom(a, b); }
        { FloatVector a = r0, b = r2; r0 = TRANSPOSE_LOW[2].selectFrom(a, b); r2 = TRANSPOSE_HIGH[2].selectFrom(a, b); }
        { FloatVector a = r1, b = r3; r1 = TRANSPOSE_LOW[2].selectFrom(a, b); r3 = TRANSPOSE_HIGH[2].selectFrom(a, b); }
        { FloatVector a = r4, b = r6; r4 = TRANSPOSE_LOW[2].selectFrom(a, b); r6 = TRANSPOSE_HIGH[2].selectFrom(a, b); }
        { FloatVector a = r5, b = r7; r5 = TRANSPOSE_LOW[2].selectFrom(a, b); r7 = TRANSPOSE_HIGH[2].selectFrom(a, b); }
        { FloatVector a = r8, b = r10; r8 = TRANSPOSE_LOW[2].selectFrom(a, b); r10 = TRANSPOSE_HIGH[2].selectFrom(a, b); }
        { FloatVector a = r9, b = r11; r9 = TRANSPOSE_LOW[2].selectFrom(a, b); r11 = TRANSPOSE_HIGH[2].selectFrom(a, b); }
        { FloatVector a = r12, b = r14; r12 = TRANSPOSE_LOW[2].selectFrom(a, b); r14 = TRANSPOSE_HIGH[2].selectFrom(a, b); }
        { FloatVector a = r13, b = r15; r13 = TRANSPOSE_LOW[2].selectFrom(a, b); r15 = TRANSPOSE_HIGH[2].selectFrom(a, b); }
        { FloatVector a = r0, b = r1; r0 = TRANSPOSE_LOW[3].selectFrom(a, b); r1 = TRANSPOSE_HIGH[3].selectFrom(a, b); }
        { FloatVector a = r2, b = r3; r2 = TRANSPOSE_LOW[3].selectFrom(a, b); r3 = TRANSPOSE_HIGH[3].selectFrom(a, b); }
        { FloatVector a = r4, b = r5; r4 = TRANSPOSE_LOW[3].selectFrom(a, b); r5 = TRANSPOSE_HIGH[3].selectFrom(a, b); }
        { FloatVector a = r6, b = r7; r6 = TRANSPOSE_LOW[3].selectFrom(a, b); r7 = TRANSPOSE_HIGH[3].selectFrom(a, b); }
        { FloatVector a = r8, b = r9; r8 = TRANSPOSE_LOW[3].selectFrom(a, b); r9 = TRANSPOSE_HIGH[3].selectFrom(a, b); }
        { FloatVector a = r10, b = r11; r10 = TRANSPOSE_LOW[3].selectFrom(a, b); r11 = TRANSPOSE_HIGH[3].selectFrom(a, b); }
        { FloatVector a = r12, b = r13; r12 = TRANSPOSE_LOW[3].selectFrom(a, b); r13 = TRANSPOSE_HIGH[3].selectFrom(a, b); }
        { FloatVector a = r14, b = r15; r14 = TRANSPOSE_LOW[3].selectFrom(a, b); r15 = TRANSPOSE_HIGH[3].selectFrom(a, b); }
        r0.intoArray(dst, d0 + 0 * dStride);
        r1.intoArray(dst, d0 + 1 * dStride);
        r2.intoArray(dst, d0 + 2 * dStride);
        r3.intoArray(dst, d0 + 3 * dStride);
        r4.intoArray(dst, d0 + 4 * dStride);
        r5.intoArray(dst, d0 + 5 * dStride);
        r6.intoArray(dst, d0 + 6 * dStride);
        r7.intoArray(dst, d0 + 7 * dStride);
        r8.intoArray(dst, d0 + 8 * dStride);
        r9.intoArray(dst, d0 + 9 * dStride);
        r10.intoArray(dst, d0 + 10 * dStride);
        r11.intoArray(dst, d0 + 11 * dStride);
        r12.intoArray(dst, d0 + 12 * dStride);
        r13.intoArray(dst, d0 + 13 * dStride);
        r14.intoArray(dst, d0 + 14 * dStride);
        r15.intoArray(dst, d0 + 15 * dStride);
    }

    /** Round k of {@link #transpose16}, distance d = 8 &gt;&gt; k: lanes of the lower and upper row of a pair, as indices into the pair (0-15 the first, 16-31 the second). */
    private static final FloatVector[] TRANSPOSE_LOW = new FloatVector[4], TRANSPOSE_HIGH = new FloatVector[4];
    static {
        if (FP.length() == 16) {
            for (int k = 0; k < 4; k++) {
                int d = 8 >> k;
                float[] low = new float[16], high = new float[16];
                for (int l = 0; l < 16; l++) {
                    low[l] = (l & d) == 0 ? l : 16 + l - d;
                    high[l] = (l & d) == 0 ? l + d : 16 + l;
                }
                TRANSPOSE_LOW[k] = FloatVector.fromArray(FP, low, 0);
                TRANSPOSE_HIGH[k] = FloatVector.fromArray(FP, high, 0);
            }
        }
    }

    private static final ThreadLocal<int[]> GATHER_OFFSETS = ThreadLocal.withInitial(() -> new int[16]);

    /** {@link #rows8Tokens16} for one weight row: out[oo + j] for 16 tokens j. */
    static void row1Tokens16(float[] w, int n, float[] xt, int tp, int t0, float[] out, int oo) {
        FloatVector a0 = FloatVector.zero(FP);
        for (int c = 0, at = t0; c < n; c++, at += tp) a0 = FloatVector.broadcast(FP, w[c]).fma(FloatVector.fromArray(FP, xt, at), a0);
        a0.intoArray(out, oo);
    }

    /**
     * y[t·yStride + yo + r] = yt[LANES_AT + r·tp + t] for rows r and tokens t: {@link #transposeTokens} undone,
     * where the vectors have 16 lanes 16 rows × 16 tokens at a time by {@link #transpose16}, 16 rows
     * of a token left over by one gather, the rest one by one.
     */
    static void untransposeTokens(float[] yt, int tp, int rows, int tokens, float[] y, int yo, int yStride) {
        untransposeTokens(yt, tp, 0, rows, tokens, y, yo, yStride);
    }

    /** {@link #untransposeTokens} of rows [rowFrom, rowTo) only: a thread's share of a product. */
    static void untransposeTokens(float[] yt, int tp, int rowFrom, int rowTo, int tokens, float[] y, int yo, int yStride) {
        int r0 = rowFrom;
        if (FP.length() == 16) {
            int[] offsets = GATHER_OFFSETS.get();
            for (int j = 0; j < 16; j++) offsets[j] = j * tp;
            for (; r0 + 16 <= rowTo; r0 += 16) {
                int t = 0;
                for (; t + 16 <= tokens; t += 16) transpose16(yt, LANES_AT + r0 * tp + t, tp, y, t * yStride + yo + r0, yStride);
                for (; t < tokens; t++) FloatVector.fromArray(FP, yt, LANES_AT + r0 * tp + t, offsets, 0).intoArray(y, t * yStride + yo + r0);
            }
        }
        for (int t = 0; t < tokens; t++) {
            for (int r = r0, at = LANES_AT + r0 * tp + t, to = t * yStride + yo; r < rowTo; r++, at += tp) y[to + r] = yt[at];
        }
    }

    /**
     * Four dot products of one decoded weight row with four activation rows (prefill): each weight
     * vector is loaded once for four FMAs, which is what makes batched prompt processing faster
     * than token-by-token. Writes y[yo], y[yo + yStride], y[yo + 2·yStride], y[yo + 3·yStride].
     */
    static void dot4(float[] w, float[] x, int xo, int xStride, int n, float[] y, int yo, int yStride) {
        FloatVector a0 = FloatVector.zero(FP), a1 = FloatVector.zero(FP), a2 = FloatVector.zero(FP), a3 = FloatVector.zero(FP);
        int i = 0;
        int bound = FP.loopBound(n);
        for (; i < bound; i += FP.length()) {
            FloatVector wv = FloatVector.fromArray(FP, w, i);
            a0 = wv.fma(FloatVector.fromArray(FP, x, xo + i), a0);
            a1 = wv.fma(FloatVector.fromArray(FP, x, xo + xStride + i), a1);
            a2 = wv.fma(FloatVector.fromArray(FP, x, xo + 2 * xStride + i), a2);
            a3 = wv.fma(FloatVector.fromArray(FP, x, xo + 3 * xStride + i), a3);
        }
        float s0 = sumPreferred(a0), s1 = sumPreferred(a1);
        float s2 = sumPreferred(a2), s3 = sumPreferred(a3);
        for (; i < n; i++) {
            s0 += w[i] * x[xo + i];
            s1 += w[i] * x[xo + xStride + i];
            s2 += w[i] * x[xo + 2 * xStride + i];
            s3 += w[i] * x[xo + 3 * xStride + i];
        }
        y[yo] = s0;
        y[yo + yStride] = s1;
        y[yo + 2 * yStride] = s2;
        y[yo + 3 * yStride] = s3;
    }

    // ---------------------------------------------------------------- fused kernels

    static final class F32Kernel extends Kernel {
        F32Kernel() { super(TensorType.F32); }

        @Override
        boolean writesLanes(int n) { return FP.length() == 16 && n % 16 == 0; }

        /** The whole vectors of the row (FP.loopBound(n) values) in two chains. */
        @Override
        float dotLanes(MemorySegment m, long at, float[] x, int xo, int n, float[] s, int so, float[] lanes, int lo) {
            FloatVector acc0 = FloatVector.zero(FP), acc1 = FloatVector.zero(FP);
            int i = 0, step = FP.length(), bound = FP.loopBound(n);
            for (; i + step < bound; i += 2 * step) {
                acc0 = FloatVector.fromMemorySegment(FP, m, at + 4L * i, LE).fma(FloatVector.fromArray(FP, x, xo + i), acc0);
                acc1 = FloatVector.fromMemorySegment(FP, m, at + 4L * (i + step), LE).fma(FloatVector.fromArray(FP, x, xo + i + step), acc1);
            }
            for (; i < bound; i += step) acc0 = FloatVector.fromMemorySegment(FP, m, at + 4L * i, LE).fma(FloatVector.fromArray(FP, x, xo + i), acc0);
            acc0.add(acc1).intoArray(lanes, lo);
            return 0;
        }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            int i = FP.loopBound(n);
            float sum = i > 0 ? dotThroughLanes(m, at, x, xo, n, null, 0) : 0;
            for (; i < n; i++) sum += m.get(Blocks.F32, at + 4L * i) * x[xo + i];
            return sum;
        }

        @Override
        public void dequantize(MemorySegment m, long at, float[] out, int o, int n) {
            MemorySegment.copy(m, Blocks.F32, at, out, o, n);
        }
    }

    /**
     * F16: a chunk of halves copied to a short array, widened in a plain loop (C2 turns
     * Float.float16ToFloat over arrays into vector conversions), then a float dot.
     */
    static final class F16Kernel extends Kernel {
        private static final int CHUNK = 512;

        F16Kernel() { super(TensorType.F16); }

        /** Per-thread chunk buffers: allocating them per row made the garbage collector the bottleneck. */
        private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

        private static final class Buffers {
            final short[] halves = new short[CHUNK];
            final float[] floats = new float[CHUNK];
        }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            Buffers buffers = BUFFERS.get();
            short[] halves = buffers.halves;
            float[] w = buffers.floats;
            float sum = 0;
            for (int i = 0; i < n; i += CHUNK) {
                int len = Math.min(CHUNK, n - i);
                widen(m, at + 2L * i, halves, w, 0, len);
                sum += dotF32(w, 0, x, xo + i, len);
            }
            return sum;
        }

        @Override
        public void dequantize(MemorySegment m, long at, float[] out, int o, int n) {
            short[] halves = BUFFERS.get().halves;
            for (int i = 0; i < n; i += CHUNK) widen(m, at + 2L * i, halves, out, o + i, Math.min(CHUNK, n - i));
        }

        private static void widen(MemorySegment m, long at, short[] halves, float[] out, int o, int len) {
            MemorySegment.copy(m, Blocks.U16, at, halves, 0, len);
            for (int k = 0; k < len; k++) out[o + k] = Float.float16ToFloat(halves[k]);
        }
    }

    /** bf16 is the top half of a float32: widen the shorts and shift. */
    static final class Bf16Kernel extends Kernel {
        private static final VectorSpecies<Short> S = ShortVector.SPECIES_128;

        Bf16Kernel() { super(TensorType.BF16); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            int i = 0;
            float sum = 0;
            if (F.length() == 8) {
                FloatVector acc = FloatVector.zero(F);
                for (; i + 8 <= n; i += 8) {
                    var ints = ShortVector.fromMemorySegment(S, m, at + 2L * i, LE).convertShape(VectorOperators.S2I, jdk.incubator.vector.IntVector.SPECIES_256, 0).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHL, 16);
                    acc = ints.reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xo + i), acc);
                }
                sum = sum(acc);
            }
            for (; i < n; i++) sum += Float.intBitsToFloat((m.get(Blocks.U16, at + 2L * i) & 0xFFFF) << 16) * x[xo + i];
            return sum;
        }
    }

    /** Q8_0: 32 int8 and one f16 scale per block. */
    static final class Q8Kernel extends Kernel {
        private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64;

        Q8Kernel() { super(TensorType.Q8_0); }

        private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

        @Override
        boolean writesLanes(int n) { return FP.length() == 16; }

        /**
         * AVX-512: a block is two 16-lane halves, Σ d·(q·x) added up in one chain per row. The loop
         * bumps the block address and activation index instead of computing them from a block
         * number and has no exit in the middle: C2 then keeps it to the vector work.
         * {@link #dotLanes8} does eight rows at once in the same order of operations.
         */
        @Override
        float dotLanes(MemorySegment m, long at, float[] x, int xo, int n, float[] sums, int so, float[] lanes, int lo) {
            FloatVector total = FloatVector.zero(FP);
            int xb = xo;
            for (long block = at, end = at + 34L * (n / 32); block < end; block += 34, xb += 32) {
                total = ((FloatVector) ByteVector.fromMemorySegment(B16, m, block + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(FloatVector.fromArray(FP, x, xb + 16), ((FloatVector) ByteVector.fromMemorySegment(B16, m, block + 2, LE)
                                .convertShape(VectorOperators.B2F, FP, 0)).mul(FloatVector.fromArray(FP, x, xb)))
                        .fma(FloatVector.broadcast(FP, Blocks.HALVES[m.get(Blocks.U16, block) & 0xFFFF]), total);
            }
            total.intoArray(lanes, lo);
            return 0;
        }

        @Override
        boolean writesLanes8(int n) { return FP.length() == 16; }

        /**
         * {@link #dotLanes} of eight rows, written out: a helper method per row would fall past C2's
         * node budget (NodeCountInliningCutoff) and run its vectors as allocating library code, and
         * so would two blocks per step (16 copies: 0.1 GB/s in a probe). Decoding OLMoE-shaped Q8_0
         * rows from memory on two threads, a probe read 20.7 GB/s this way against 12.3 row by row
         * and 15.4 with four rows (docs/PERFORMANCE.md, "Eight streams"). The loop counts blocks in
         * an int and computes the addresses from it: with a long byte offset bumped by 34, C2 kept
         * a long loop, spilled more registers (18 moves between general and vector registers a
         * step here, against 3) and, in {@link #dotLanes8Scaled}, bounds-checked every row's scale
         * each step (157 → 133 instructions a step here, 178 → 138 there; mini-moe decode +2–9 %
         * on one thread, the same bits).
         */
        @Override
        void dotLanes8(MemorySegment m, long at, long apart, float[] x, int xo, int n, float[] lanes, int lo) {
            long a0 = at, a1 = at + apart, a2 = at + 2 * apart, a3 = at + 3 * apart, a4 = at + 4 * apart, a5 = at + 5 * apart, a6 = at + 6 * apart, a7 = at + 7 * apart;
            FloatVector t0 = FloatVector.zero(FP), t1 = FloatVector.zero(FP), t2 = FloatVector.zero(FP), t3 = FloatVector.zero(FP);
            FloatVector t4 = FloatVector.zero(FP), t5 = FloatVector.zero(FP), t6 = FloatVector.zero(FP), t7 = FloatVector.zero(FP);
            for (int b = 0, blocks = n / 32; b < blocks; b++) {
                long o = 34L * b;
                int xb = xo + 32 * b;
                FloatVector xa = FloatVector.fromArray(FP, x, xb), xc = FloatVector.fromArray(FP, x, xb + 16);
                t0 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a0 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a0 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, Blocks.HALVES[m.get(Blocks.U16, a0 + o) & 0xFFFF]), t0);
                t1 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a1 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a1 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, Blocks.HALVES[m.get(Blocks.U16, a1 + o) & 0xFFFF]), t1);
                t2 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a2 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a2 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, Blocks.HALVES[m.get(Blocks.U16, a2 + o) & 0xFFFF]), t2);
                t3 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a3 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a3 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, Blocks.HALVES[m.get(Blocks.U16, a3 + o) & 0xFFFF]), t3);
                t4 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a4 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a4 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, Blocks.HALVES[m.get(Blocks.U16, a4 + o) & 0xFFFF]), t4);
                t5 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a5 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a5 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, Blocks.HALVES[m.get(Blocks.U16, a5 + o) & 0xFFFF]), t5);
                t6 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a6 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a6 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, Blocks.HALVES[m.get(Blocks.U16, a6 + o) & 0xFFFF]), t6);
                t7 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a7 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a7 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, Blocks.HALVES[m.get(Blocks.U16, a7 + o) & 0xFFFF]), t7);
            }
            t0.intoArray(lanes, lo);
            t1.intoArray(lanes, lo + 16);
            t2.intoArray(lanes, lo + 32);
            t3.intoArray(lanes, lo + 48);
            t4.intoArray(lanes, lo + 64);
            t5.intoArray(lanes, lo + 80);
            t6.intoArray(lanes, lo + 96);
            t7.intoArray(lanes, lo + 112);
        }

        /**
         * {@link #dotLanes8} with the rows' block scales as floats from {@code d} (row k's at
         * d[di + k·dApart ..], one per block): the same bits, without the scale lookup in the loop
         * (mini-moe decode 4–14 % faster on one thread, up to 5.5 % on two; see {@link Matrix}'s scale tables). The two
         * are written out separately on purpose: {@link #dotLanes8} through this one, its scales
         * gathered by a pass over the eight rows first, decoded OLMoE Q8_0 at 11.6–11.9 t/s against
         * 15.9–16.1 (the pass reads every row's cache lines one scattered load at a time, ahead of
         * the streams).
         */
        void dotLanes8Scaled(MemorySegment m, long at, long apart, float[] x, int xo, int n, float[] lanes, int lo, float[] d, int di, int dApart) {
            long a0 = at, a1 = at + apart, a2 = at + 2 * apart, a3 = at + 3 * apart, a4 = at + 4 * apart, a5 = at + 5 * apart, a6 = at + 6 * apart, a7 = at + 7 * apart;
            FloatVector t0 = FloatVector.zero(FP), t1 = FloatVector.zero(FP), t2 = FloatVector.zero(FP), t3 = FloatVector.zero(FP);
            FloatVector t4 = FloatVector.zero(FP), t5 = FloatVector.zero(FP), t6 = FloatVector.zero(FP), t7 = FloatVector.zero(FP);
            for (int b = 0, blocks = n / 32; b < blocks; b++) {
                long o = 34L * b;
                int xb = xo + 32 * b, s = di + b;
                FloatVector xa = FloatVector.fromArray(FP, x, xb), xc = FloatVector.fromArray(FP, x, xb + 16);
                t0 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a0 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a0 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, d[s]), t0);
                t1 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a1 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a1 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, d[s + dApart]), t1);
                t2 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a2 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a2 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, d[s + 2 * dApart]), t2);
                t3 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a3 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a3 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, d[s + 3 * dApart]), t3);
                t4 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a4 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a4 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, d[s + 4 * dApart]), t4);
                t5 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a5 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a5 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, d[s + 5 * dApart]), t5);
                t6 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a6 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a6 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, d[s + 6 * dApart]), t6);
                t7 = ((FloatVector) ByteVector.fromMemorySegment(B16, m, a7 + o + 18, LE).convertShape(VectorOperators.B2F, FP, 0))
                        .fma(xc, ((FloatVector) ByteVector.fromMemorySegment(B16, m, a7 + o + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(xa))
                        .fma(FloatVector.broadcast(FP, d[s + 7 * dApart]), t7);
            }
            t0.intoArray(lanes, lo);
            t1.intoArray(lanes, lo + 16);
            t2.intoArray(lanes, lo + 32);
            t3.intoArray(lanes, lo + 48);
            t4.intoArray(lanes, lo + 64);
            t5.intoArray(lanes, lo + 80);
            t6.intoArray(lanes, lo + 96);
            t7.intoArray(lanes, lo + 112);
        }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (FP.length() == 16) return dotThroughLanes(m, at, x, xo, n, null, 0);
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector total = FloatVector.zero(F);
            for (int b = 0; b < n / 32; b++) {
                long block = at + 34L * b;
                int xb = xo + 32 * b;
                FloatVector s = ByteVector.fromMemorySegment(B, m, block + 2, LE).convertShape(VectorOperators.B2F, F, 0).reinterpretAsFloats()
                        .mul(FloatVector.fromArray(F, x, xb));
                s = ByteVector.fromMemorySegment(B, m, block + 10, LE).convertShape(VectorOperators.B2F, F, 0).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(F, x, xb + 8), s);
                s = ByteVector.fromMemorySegment(B, m, block + 18, LE).convertShape(VectorOperators.B2F, F, 0).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(F, x, xb + 16), s);
                s = ByteVector.fromMemorySegment(B, m, block + 26, LE).convertShape(VectorOperators.B2F, F, 0).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(F, x, xb + 24), s);
                total = s.fma(FloatVector.broadcast(F, Blocks.half(m, block)), total);
            }
            return sum(total);
        }

        @Override
        public void dequantize(MemorySegment m, long at, float[] out, int o, int n) {
            if (FP.length() == 16) {
                // a block as two 16-lane halves (prefill decodes every weight row it multiplies), from
                // the row's own slice (offsets from 0: fewer address computations) and the scale by
                // table: 14 values a nanosecond against 11 at the mapping's offsets
                MemorySegment row = m.asSlice(at, 34L * (n / 32));
                for (int b = 0, ob = o; b < n / 32; b++, ob += 32) {
                    long block = 34L * b;
                    float d = Blocks.HALVES[row.get(Blocks.U16, block) & 0xFFFF];
                    ((FloatVector) ByteVector.fromMemorySegment(B16, row, block + 2, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(d).intoArray(out, ob);
                    ((FloatVector) ByteVector.fromMemorySegment(B16, row, block + 18, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(d).intoArray(out, ob + 16);
                }
                return;
            }
            if (F.length() != 8) {
                super.dequantize(m, at, out, o, n);
                return;
            }
            for (int b = 0; b < n / 32; b++) {
                long block = at + 34L * b;
                FloatVector d = FloatVector.broadcast(F, Blocks.half(m, block));
                for (int k = 0; k < 4; k++) {
                    ByteVector.fromMemorySegment(B, m, block + 2 + 8 * k, LE).convertShape(VectorOperators.B2F, F, 0).reinterpretAsFloats()
                            .mul(d).intoArray(out, o + 32 * b + 8 * k);
                }
            }
        }
    }

    /** Q4_0: 32 4-bit values (offset 8) and one f16 scale per block; low nibbles are elements 0-15, high 16-31. */
    static final class Q4Kernel extends Kernel {
        Q4Kernel() { super(TensorType.Q4_0); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector total = FloatVector.zero(F);
            for (int b = 0; b < n / 32; b++) {
                long block = at + 18L * b;
                int xb = xo + 32 * b;
                FloatVector s = FloatVector.zero(F);
                for (int h = 0; h < 2; h++) {
                    IntVector q = ((IntVector) ByteVector.fromMemorySegment(B8, m, block + 2 + 8 * h, LE).convertShape(VectorOperators.B2I, I, 0));
                    s = ((FloatVector) q.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb + 8 * h), s);
                    s = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb + 16 + 8 * h), s);
                }
                total = s.fma(FloatVector.broadcast(F, Blocks.half(m, block)), total);
            }
            return sum(total);
        }
    }

    /** Q5_0: Q4_0's nibbles plus a fifth bit per value from a 32-bit qh (bit j for value j), offset 16. */
    static final class Q5Kernel extends Kernel {
        private static final IntVector LANE = IntVector.fromArray(IntVector.SPECIES_256, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, 0);

        Q5Kernel() { super(TensorType.Q5_0); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector total = FloatVector.zero(F);
            for (int b = 0; b < n / 32; b++) {
                long block = at + 22L * b;
                int xb = xo + 32 * b;
                IntVector qh = IntVector.broadcast(I, m.get(Blocks.I32, block + 2));
                FloatVector s = FloatVector.zero(F);
                for (int h = 0; h < 2; h++) {
                    IntVector q = ((IntVector) ByteVector.fromMemorySegment(B8, m, block + 6 + 8 * h, LE).convertShape(VectorOperators.B2I, I, 0));
                    IntVector shift = LANE.add(8 * h);
                    IntVector high0 = qh.lanewise(VectorOperators.LSHR, shift).and(1).lanewise(VectorOperators.LSHL, 4);
                    IntVector high1 = qh.lanewise(VectorOperators.LSHR, shift.add(16)).and(1).lanewise(VectorOperators.LSHL, 4);
                    s = ((FloatVector) q.and(0xF).or(high0).sub(16).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb + 8 * h), s);
                    s = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).or(high1).sub(16).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb + 16 + 8 * h), s);
                }
                total = s.fma(FloatVector.broadcast(F, Blocks.half(m, block)), total);
            }
            return sum(total);
        }

        @Override
        public void dequantize(MemorySegment m, long at, float[] out, int o, int n) {
            if (F.length() != 8) {
                super.dequantize(m, at, out, o, n);
                return;
            }
            for (int b = 0; b < n / 32; b++) {
                long block = at + 22L * b;
                float d = Blocks.half(m, block);
                IntVector qh = IntVector.broadcast(I, m.get(Blocks.I32, block + 2));
                for (int h = 0; h < 2; h++) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B8, m, block + 6 + 8 * h, LE).convertShape(VectorOperators.B2I, I, 0);
                    IntVector shift = LANE.add(8 * h);
                    IntVector high0 = qh.lanewise(VectorOperators.LSHR, shift).and(1).lanewise(VectorOperators.LSHL, 4);
                    IntVector high1 = qh.lanewise(VectorOperators.LSHR, shift.add(16)).and(1).lanewise(VectorOperators.LSHL, 4);
                    ((FloatVector) q.and(0xF).or(high0).sub(16).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + 32 * b + 8 * h);
                    ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).or(high1).sub(16).convert(VectorOperators.I2F, 0)).mul(d)
                            .intoArray(out, o + 32 * b + 16 + 8 * h);
                }
            }
        }
    }

    /** Q4_1: 32 nibbles with a scale d and an offset m per block: Σ (d·q + m)·x = d·Σ q·x + m·Σ x. */
    static final class Q41Kernel extends Kernel {
        Q41Kernel() { super(TensorType.Q4_1); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector total = FloatVector.zero(F);
            for (int b = 0; b < n / 32; b++) {
                long block = at + 20L * b;
                int xb = xo + 32 * b;
                FloatVector s = FloatVector.zero(F), xs = FloatVector.zero(F);
                for (int h = 0; h < 2; h++) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B8, m, block + 4 + 8 * h, LE).convertShape(VectorOperators.B2I, I, 0);
                    FloatVector a = FloatVector.fromArray(F, x, xb + 8 * h), c = FloatVector.fromArray(F, x, xb + 16 + 8 * h);
                    s = ((FloatVector) q.and(0xF).convert(VectorOperators.I2F, 0)).fma(a, s);
                    s = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).convert(VectorOperators.I2F, 0)).fma(c, s);
                    xs = xs.add(a).add(c);
                }
                total = s.fma(FloatVector.broadcast(F, Blocks.half(m, block)), total);
                total = xs.fma(FloatVector.broadcast(F, Blocks.half(m, block + 2)), total);
            }
            return sum(total);
        }
    }

    /** Q5_1: Q4_1 with Q5_0's fifth bits (qh, bit j for value j). */
    static final class Q51Kernel extends Kernel {
        Q51Kernel() { super(TensorType.Q5_1); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector total = FloatVector.zero(F);
            for (int b = 0; b < n / 32; b++) {
                long block = at + 24L * b;
                int xb = xo + 32 * b;
                IntVector qh = IntVector.broadcast(I, m.get(Blocks.I32, block + 4));
                FloatVector s = FloatVector.zero(F), xs = FloatVector.zero(F);
                for (int h = 0; h < 2; h++) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B8, m, block + 8 + 8 * h, LE).convertShape(VectorOperators.B2I, I, 0);
                    IntVector shift = Q5Kernel.LANE.add(8 * h);
                    IntVector high0 = qh.lanewise(VectorOperators.LSHR, shift).and(1).lanewise(VectorOperators.LSHL, 4);
                    IntVector high1 = qh.lanewise(VectorOperators.LSHR, shift.add(16)).and(1).lanewise(VectorOperators.LSHL, 4);
                    FloatVector a = FloatVector.fromArray(F, x, xb + 8 * h), c = FloatVector.fromArray(F, x, xb + 16 + 8 * h);
                    s = ((FloatVector) q.and(0xF).or(high0).convert(VectorOperators.I2F, 0)).fma(a, s);
                    s = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xF).or(high1).convert(VectorOperators.I2F, 0)).fma(c, s);
                    xs = xs.add(a).add(c);
                }
                total = s.fma(FloatVector.broadcast(F, Blocks.half(m, block)), total);
                total = xs.fma(FloatVector.broadcast(F, Blocks.half(m, block + 2)), total);
            }
            return sum(total);
        }
    }

    /** IQ4_NL: 32 nibbles indexing a fixed non-linear grid of 16 values, one f16 scale per block. */
    static final class Iq4NlKernel extends Kernel {
        private static final IntVector LOW = IntVector.fromArray(IntVector.SPECIES_256, new int[] {-127, -104, -83, -65, -49, -35, -22, -10}, 0);
        private static final IntVector HIGH = IntVector.fromArray(IntVector.SPECIES_256, new int[] {1, 13, 25, 38, 53, 69, 89, 113}, 0);

        Iq4NlKernel() { super(TensorType.IQ4_NL); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector total = FloatVector.zero(F);
            for (int b = 0; b < n / 32; b++) {
                long block = at + 18L * b;
                int xb = xo + 32 * b;
                FloatVector s = FloatVector.zero(F);
                for (int h = 0; h < 2; h++) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B8, m, block + 2 + 8 * h, LE).convertShape(VectorOperators.B2I, I, 0);
                    IntVector lo = q.and(0xF), hi = q.lanewise(VectorOperators.LSHR, 4).and(0xF);
                    // the grid's first and second halves, picked by bit 3 of the index
                    IntVector loValue = lo.and(7).selectFrom(LOW).blend(lo.and(7).selectFrom(HIGH), lo.compare(VectorOperators.GE, 8));
                    IntVector hiValue = hi.and(7).selectFrom(LOW).blend(hi.and(7).selectFrom(HIGH), hi.compare(VectorOperators.GE, 8));
                    s = ((FloatVector) loValue.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb + 8 * h), s);
                    s = ((FloatVector) hiValue.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb + 16 + 8 * h), s);
                }
                total = s.fma(FloatVector.broadcast(F, Blocks.half(m, block)), total);
            }
            return sum(total);
        }
    }

    /**
     * MXFP4 (gpt-oss experts): 32 E2M1 values (nibbles, doubled: 0, 1, 2, 3, 4, 6, 8, 12 and their
     * negatives) with one E8M0 scale (halved) per block. The value is worked out in int lanes:
     * mantissa bit m, exponent e: e = 0 gives m, else (2 + m) shifted left by e − 1; bit 3 is the sign.
     */
    static final class Mxfp4Kernel extends Kernel {
        Mxfp4Kernel() { super(TensorType.MXFP4); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector total = FloatVector.zero(F);
            for (int b = 0; b < n / 32; b++) {
                long block = at + 17L * b;
                int xb = xo + 32 * b;
                FloatVector s = FloatVector.zero(F);
                for (int h = 0; h < 2; h++) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B8, m, block + 1 + 8 * h, LE).convertShape(VectorOperators.B2I, I, 0);
                    for (int part = 0; part < 2; part++) {
                        IntVector nibble = part == 0 ? q.and(0xF) : q.lanewise(VectorOperators.LSHR, 4).and(0xF);
                        IntVector mantissa = nibble.and(1), exponent = nibble.lanewise(VectorOperators.LSHR, 1).and(3);
                        IntVector magnitude = mantissa.add(2).lanewise(VectorOperators.LSHL, exponent.sub(1).max(0))
                                .blend(mantissa, exponent.compare(VectorOperators.EQ, 0));
                        IntVector value = magnitude.blend(magnitude.neg(), nibble.compare(VectorOperators.GE, 8));
                        s = ((FloatVector) value.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb + 16 * part + 8 * h), s);
                    }
                }
                total = s.fma(FloatVector.broadcast(F, Blocks.e8m0Half(m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, block) & 0xFF)), total);
            }
            return sum(total);
        }
    }

    /**
     * Q2_K: super-blocks of 256 = 16 groups of 16 two-bit values, each group with a 4-bit scale and a
     * 4-bit min (d·sc·q − dmin·m); the 2-bit fields of 32 bytes are read four times, shifted by 0, 2, 4, 6.
     */
    static final class Q2KKernel extends Kernel {
        Q2KKernel() { super(TensorType.Q2_K); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < n / 256; b++) {
                long block = at + 84L * b;
                long scales0 = m.get(Blocks.U64, block), scales1 = m.get(Blocks.U64, block + 8); // sixteen scale/min bytes
                float d = Blocks.half(m, block + 80), dmin = Blocks.half(m, block + 82);
                int xb = xo + 256 * b;
                int is = 0;
                for (int part = 0; part < 2; part++) {
                    long q = block + 16 + 32 * part;
                    for (int j = 0; j < 4; j++) {
                        for (int sub = 0; sub < 2; sub++, is++) {
                            int xg = xb + 128 * part + 32 * j + 16 * sub;
                            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B8, m, q + 16 * sub, LE).convertShape(VectorOperators.B2I, I, 0);
                            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B8, m, q + 16 * sub + 8, LE).convertShape(VectorOperators.B2I, I, 0);
                            FloatVector a0 = FloatVector.fromArray(F, x, xg), a1 = FloatVector.fromArray(F, x, xg + 8);
                            FloatVector s = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 2 * j).and(3).convert(VectorOperators.I2F, 0)).mul(a0);
                            s = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 2 * j).and(3).convert(VectorOperators.I2F, 0)).fma(a1, s);
                            int sc = Blocks.byteK4(is < 8 ? scales0 : scales1, is & 7);
                            acc = s.fma(FloatVector.broadcast(F, d * (sc & 0xF)), acc);
                            acc = a0.add(a1).fma(FloatVector.broadcast(F, -dmin * (sc >> 4)), acc);
                        }
                    }
                }
            }
            return sum(acc);
        }
    }

    /**
     * Q3_K: Q2_K's 2-bit fields plus a third (inverted) bit per value from hmask, with 16 signed 6-bit
     * scales packed in 12 bytes and one f16 d per super-block.
     */
    static final class Q3KKernel extends Kernel {
        Q3KKernel() { super(TensorType.Q3_K); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < n / 256; b++) {
                long block = at + 110L * b;
                int a0 = m.get(Blocks.I32, block + 96), a1 = m.get(Blocks.I32, block + 100), tmp = m.get(Blocks.I32, block + 104);
                long low = Blocks.scalesK3(a0, a1, tmp, false), high = Blocks.scalesK3(a0, a1, tmp, true);
                float d = Blocks.half(m, block + 108);
                int xb = xo + 256 * b;
                int is = 0;
                for (int part = 0; part < 2; part++) {
                    long q = block + 32 + 32 * part;
                    for (int j = 0; j < 4; j++) {
                        int bit = 4 * part + j;
                        for (int sub = 0; sub < 2; sub++, is++) {
                            int xg = xb + 128 * part + 32 * j + 16 * sub;
                            FloatVector s = FloatVector.zero(F);
                            for (int c = 0; c < 2; c++) {
                                IntVector qv = (IntVector) ByteVector.fromMemorySegment(B8, m, q + 16 * sub + 8 * c, LE).convertShape(VectorOperators.B2I, I, 0);
                                IntVector hv = (IntVector) ByteVector.fromMemorySegment(B8, m, block + 16 * sub + 8 * c, LE).convertShape(VectorOperators.B2I, I, 0);
                                IntVector value = qv.lanewise(VectorOperators.LSHR, 2 * j).and(3)
                                        .add(hv.lanewise(VectorOperators.LSHR, bit).and(1).lanewise(VectorOperators.LSHL, 2)).sub(4);
                                s = ((FloatVector) value.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xg + 8 * c), s);
                            }
                            int scale = Blocks.scaleK3(low, high, is);
                            acc = s.fma(FloatVector.broadcast(F, d * (scale - 32)), acc);
                        }
                    }
                }
            }
            return sum(acc);
        }
    }

    /**
     * A kernel whose dot product takes the activations' sums per group of {@code group} values (see
     * {@link #sumGroup}) on the preferred-width path; elsewhere it decodes a block at a time.
     */
    abstract static class GroupSumKernel extends Kernel {
        private final int group;

        GroupSumKernel(TensorType type, int group) {
            super(type);
            this.group = group;
        }

        @Override
        public int sumGroup() { return WIDE ? group : 0; }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            return WIDE ? dotWithSums(m, at, x, xo, n) : super.dot(m, at, x, xo, n);
        }
    }

    /**
     * Q4_K: super-blocks of 256 = 8 sub-blocks of 32 with 6-bit scales and mins. Per sub-block,
     * Σ (d·sc·q − dmin·m)·x = d·sc·Σq·x − dmin·m·Σx.
     */
    static final class Q4KKernel extends GroupSumKernel {
        Q4KKernel() { super(TensorType.Q4_K, 32); }

        @Override
        boolean writesLanes(int n) { return FP.length() == 16; }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n, float[] s, int so) {
            return WIDE ? dotThroughLanes(m, at, x, xo, n, s, so) : super.dot(m, at, x, xo, n);
        }

        @Override
        float dotLanes(MemorySegment m, long at, float[] x, int xo, int n, float[] s, int so, float[] out, int o) {
            int lanes = FP.length();
            // low nibbles (even sub-blocks) and high nibbles (odd ones) in separate FMA chains
            FloatVector acc = FloatVector.zero(FP), accHi = FloatVector.zero(FP);
            FloatVector accMin = FloatVector.zero(FloatVector.SPECIES_256);
            int scaled = s.length - SCRATCH_FLOATS; // d·scale per sub-block of the block in hand, in the buffer's scratch
            int x0 = indexBase(xo), s0 = indexBase(so), blocks = blockCount(n, 8);
            for (int b = 0; b < blocks; b++) {
                long block = at + 144L * b;
                // d, dmin and the 12 packed scale bytes as two longs; the eight 6-bit scales and mins, a byte each
                long lo8 = m.get(Blocks.U64, block), hi8 = m.get(Blocks.U64, block + 8);
                long mins = Blocks.minsK4(lo8, hi8), scales = Blocks.scalesK4(lo8, hi8);
                // Σ dmin·m_j·Σx_j: the eight mins against the eight sub-block sums in one vector
                FloatVector mv = (FloatVector) LongVector.broadcast(LongVector.SPECIES_128, mins).reinterpretAsBytes()
                        .convertShape(VectorOperators.B2F, FloatVector.SPECIES_256, 0);
                accMin = mv.mul(FloatVector.fromArray(FloatVector.SPECIES_256, s, s0 + 8 * b))
                        .fma(FloatVector.broadcast(FloatVector.SPECIES_256, Float.float16ToFloat((short) (lo8 >>> 16))), accMin);
                ((FloatVector) LongVector.broadcast(LongVector.SPECIES_128, scales).reinterpretAsBytes()
                        .convertShape(VectorOperators.B2F, FloatVector.SPECIES_256, 0)).mul(Float.float16ToFloat((short) lo8)).intoArray(s, scaled);
                long q = block + 16;
                int xb = x0 + 256 * b;
                for (int j = 0; j < 4; j++, q += 32) {
                    FloatVector lo = FloatVector.zero(FP), hi = FloatVector.zero(FP);
                    for (int k = 0; k < 32; k += lanes) {
                        IntVector bytes = (IntVector) ByteVector.fromMemorySegment(BP, m, q + k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, IP, 0);
                        lo = ((FloatVector) bytes.and(0xF).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FP, x, xb + 64 * j + k), lo);
                        hi = ((FloatVector) bytes.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.fromArray(FP, x, xb + 64 * j + 32 + k), hi);
                    }
                    acc = lo.fma(FloatVector.broadcast(FP, s[scaled + 2 * j]), acc);
                    accHi = hi.fma(FloatVector.broadcast(FP, s[scaled + 2 * j + 1]), accHi);
                }
            }
            acc.add(accHi).intoArray(out, o);
            return sum(accMin);
        }

        @Override
        public void dequantize(MemorySegment m, long at, float[] out, int o, int n) {
            if (F.length() != 8) {
                super.dequantize(m, at, out, o, n);
                return;
            }
            for (int b = 0; b < n / 256; b++) {
                long block = at + 144L * b;
                long lo8 = m.get(Blocks.U64, block), hi8 = m.get(Blocks.U64, block + 8);
                long scales = Blocks.scalesK4(lo8, hi8), mins = Blocks.minsK4(lo8, hi8);
                float d = Float.float16ToFloat((short) lo8), dmin = Float.float16ToFloat((short) (lo8 >>> 16));
                for (int j = 0; j < 4; j++) {
                    long q = block + 16 + 32 * j;
                    int y = o + 256 * b + 64 * j;
                    // d1·q − m1 as Blocks.dequantize computes it (bit for bit)
                    float d1 = d * Blocks.byteK4(scales, 2 * j), m1 = dmin * Blocks.byteK4(mins, 2 * j);
                    float d2 = d * Blocks.byteK4(scales, 2 * j + 1), m2 = dmin * Blocks.byteK4(mins, 2 * j + 1);
                    for (int k = 0; k < 4; k++) {
                        IntVector bytes = (IntVector) ByteVector.fromMemorySegment(B8, m, q + 8 * k, LE).convertShape(VectorOperators.B2I, I, 0);
                        ((FloatVector) bytes.and(0xF).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(out, y + 8 * k);
                        ((FloatVector) bytes.lanewise(VectorOperators.LSHR, 4).and(0xF).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(out, y + 32 + 8 * k);
                    }
                }
            }
        }
    }

    /**
     * Q5_K: Q4_K's super-block (d, dmin, 6-bit scales and mins) with a fifth bit per value from
     * qh (bit 2j for the low nibbles of group j, bit 2j+1 for the high ones).
     */
    static final class Q5KKernel extends Kernel {
        Q5KKernel() { super(TensorType.Q5_K); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n) {
            if (F.length() != 8) return super.dot(m, at, x, xo, n);
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < n / 256; b++) {
                long block = at + 176L * b;
                long lo8 = m.get(Blocks.U64, block), hi8 = m.get(Blocks.U64, block + 8);
                long scales = Blocks.scalesK4(lo8, hi8), mins = Blocks.minsK4(lo8, hi8);
                float d = Float.float16ToFloat((short) lo8), dmin = Float.float16ToFloat((short) (lo8 >>> 16));
                long qh = block + 16, q = block + 48;
                int xb = xo + 256 * b;
                for (int j = 0; j < 4; j++, q += 32) {
                    FloatVector lo = FloatVector.zero(F), hi = FloatVector.zero(F), xsLo = FloatVector.zero(F), xsHi = FloatVector.zero(F);
                    for (int k = 0; k < 4; k++) {
                        IntVector bytes = (IntVector) ByteVector.fromMemorySegment(B8, m, q + 8 * k, LE).convertShape(VectorOperators.B2I, I, 0);
                        IntVector high = (IntVector) ByteVector.fromMemorySegment(B8, m, qh + 8 * k, LE).convertShape(VectorOperators.B2I, I, 0);
                        FloatVector a = FloatVector.fromArray(F, x, xb + 64 * j + 8 * k);
                        FloatVector c = FloatVector.fromArray(F, x, xb + 64 * j + 32 + 8 * k);
                        IntVector fifthLo = high.lanewise(VectorOperators.LSHR, 2 * j).and(1).lanewise(VectorOperators.LSHL, 4);
                        IntVector fifthHi = high.lanewise(VectorOperators.LSHR, 2 * j + 1).and(1).lanewise(VectorOperators.LSHL, 4);
                        lo = ((FloatVector) bytes.and(0xF).or(fifthLo).convert(VectorOperators.I2F, 0)).fma(a, lo);
                        hi = ((FloatVector) bytes.lanewise(VectorOperators.LSHR, 4).and(0xF).or(fifthHi).convert(VectorOperators.I2F, 0)).fma(c, hi);
                        xsLo = xsLo.add(a);
                        xsHi = xsHi.add(c);
                    }
                    int is = 2 * j;
                    acc = lo.fma(FloatVector.broadcast(F, d * Blocks.byteK4(scales, is)), acc);
                    acc = xsLo.fma(FloatVector.broadcast(F, -dmin * Blocks.byteK4(mins, is)), acc);
                    acc = hi.fma(FloatVector.broadcast(F, d * Blocks.byteK4(scales, is + 1)), acc);
                    acc = xsHi.fma(FloatVector.broadcast(F, -dmin * Blocks.byteK4(mins, is + 1)), acc);
                }
            }
            return sum(acc);
        }
    }

    /** Q6_K: 6-bit values (4 low bits in ql, 2 high in qh, offset 32), an int8 scale per 16, one f16 d. */
    static final class Q6KKernel extends GroupSumKernel {
        Q6KKernel() { super(TensorType.Q6_K, 16); }

        @Override
        public float dot(MemorySegment m, long at, float[] x, int xo, int n, float[] s, int so) {
            if (!WIDE) return super.dot(m, at, x, xo, n);
            int lanes = FP.length();
            // a chain of FMAs per quarter (one chain waited on 9 FMAs a block); the offset 32 per block from
            // the group sums: Σ d·sc·(q − 32)·x = Σ d·sc·q·x − 32·Σ d·sc·Σx.
            // (Few vectors live at the end on purpose: this method uses up C2's inlining budget, and
            // vector operations past it run as allocating library code.)
            FloatVector acc = FloatVector.zero(FP), acc1 = FloatVector.zero(FP), acc2 = FloatVector.zero(FP), acc3 = FloatVector.zero(FP);
            int scaled = s.length - SCRATCH_FLOATS; // d·scale per group of the block in hand, in the buffer's scratch
            int x0 = indexBase(xo), s0 = indexBase(so), blocks = blockCount(n, 8);
            for (int b = 0; b < blocks; b++) {
                long block = at + 210L * b;
                float d = Float.float16ToFloat(m.get(Blocks.U16, block + 208));
                // group g = values 16g..16g+15, int8 scale at byte 192 + g, activation sum s[16b + g]
                for (int g = 0; g < 16; g += lanes) {
                    FloatVector sc = ((FloatVector) ByteVector.fromMemorySegment(BP, m, block + 192 + g, LE).convertShape(VectorOperators.B2F, FP, 0)).mul(d);
                    sc.intoArray(s, scaled + g);
                    acc = sc.mul(-32f).fma(FloatVector.fromArray(FP, s, s0 + 16 * b + g), acc);
                }
                long ql = block, qh = block + 128;
                int xb = x0 + 256 * b;
                for (int part = 0; part < 2; part++, ql += 64, qh += 32) {
                    int base = xb + 128 * part;
                    for (int l = 0; l < 32; l += lanes) {
                        // values l.. of the part's four quarters: quarter k takes the low nibbles of ql (k = 0, 1)
                        // or the high ones (k = 2, 3), of its first 32 bytes (k even) or its second, and bits
                        // 2k..2k+1 of qh as bits 4-5; its group's scale is 2k past quarter 0's
                        int is = scaled + 8 * part + l / 16;
                        IntVector low = (IntVector) ByteVector.fromMemorySegment(BP, m, ql + l, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, IP, 0);
                        IntVector low1 = (IntVector) ByteVector.fromMemorySegment(BP, m, ql + 32 + l, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, IP, 0);
                        IntVector high = (IntVector) ByteVector.fromMemorySegment(BP, m, qh + l, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, IP, 0);
                        IntVector q0 = low.and(0xF).or(high.lanewise(VectorOperators.LSHL, 4).and(0x30));
                        IntVector q1 = low1.and(0xF).or(high.lanewise(VectorOperators.LSHL, 2).and(0x30));
                        IntVector q2 = low.lanewise(VectorOperators.LSHR, 4).or(high.and(0x30));
                        IntVector q3 = low1.lanewise(VectorOperators.LSHR, 4).or(high.lanewise(VectorOperators.LSHR, 2).and(0x30));
                        acc = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FP, x, base + l))
                                .fma(FloatVector.broadcast(FP, s[is]), acc);
                        acc1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FP, x, base + 32 + l))
                                .fma(FloatVector.broadcast(FP, s[is + 2]), acc1);
                        acc2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FP, x, base + 64 + l))
                                .fma(FloatVector.broadcast(FP, s[is + 4]), acc2);
                        acc3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FP, x, base + 96 + l))
                                .fma(FloatVector.broadcast(FP, s[is + 6]), acc3);
                    }
                }
            }
            // reduced from the scratch (16 or 8 lanes each): a vector operation here, past C2's inlining
            // budget, allocates (on AVX2 too: a sumPreferred of the two chains' sum did)
            acc.add(acc1).intoArray(s, scaled + 16);
            acc2.add(acc3).intoArray(s, scaled + 32);
            return laneSum(s, scaled + 16) + laneSum(s, scaled + 32);
        }

        @Override
        public void dequantize(MemorySegment m, long at, float[] out, int o, int n) {
            if (F.length() != 8) {
                super.dequantize(m, at, out, o, n);
                return;
            }
            for (int b = 0; b < n / 256; b++) {
                long block = at + 210L * b;
                float d = Float.float16ToFloat(m.get(Blocks.U16, block + 208));
                long scalesLo = m.get(Blocks.U64, block + 192), scalesHi = m.get(Blocks.U64, block + 200);
                long ql = block, qh = block + 128;
                for (int part = 0; part < 2; part++, ql += 64, qh += 32) {
                    int y = o + 256 * b + 128 * part;
                    for (int l = 0; l < 32; l += 8) {
                        long scales = (part == 0 ? scalesLo : scalesHi) >> (8 * (l / 16)); // quarter k's scale in byte 2k
                        // quarter k = values 32k.. of the part, (d·scale)·q as Blocks.dequantize computes it (bit for
                        // bit); one written-out copy, inside C2's inlining budget (four were past it in some runs,
                        // and the last ran as allocating library code)
                        for (int k = 0; k < 4; k++) {
                            IntVector low = (IntVector) ByteVector.fromMemorySegment(B8, m, ql + 32 * (k & 1) + l, LE).convertShape(VectorOperators.B2I, I, 0);
                            IntVector high = (IntVector) ByteVector.fromMemorySegment(B8, m, qh + l, LE).convertShape(VectorOperators.B2I, I, 0);
                            ((FloatVector) low.lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and(0xF).or(high.lanewise(VectorOperators.LSHR, 2 * k).and(3).lanewise(VectorOperators.LSHL, 4))
                                    .sub(32).convert(VectorOperators.I2F, 0)).mul(d * (byte) (scales >> 16 * k)).intoArray(out, y + 32 * k + l);
                        }
                    }
                }
            }
        }
    }
}
