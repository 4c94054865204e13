package org.moescope.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp in vectors from additions, multiplications and bit operations only (Cephes' expf: e^x =
 * 2^k · e^r with |r| ≤ ln2/2 and a degree-6 polynomial for e^r; within 2 ulp of Math.exp), so that
 * it gives the same bits however the JIT has compiled it. The Vector API's own EXP does not: compiled
 * by C2 it calls a vector math library that differs from Math.exp (its fallback before C2 compiles
 * it) in the last bit for about 1 % of inputs, which made a forward pass's bits depend on how long
 * the process had been running.
 */
public final class VectorExp {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /**
     * Below LOWEST e^x is taken as 0 (the smallest normal float is e^-87.34), above OVERFLOW as +∞;
     * between HIGHEST and OVERFLOW (where 2^k would overflow) as e^HIGHEST, 2.4e38.
     */
    private static final float LOWEST = -87.3f, HIGHEST = 88.37f, OVERFLOW = 88.72284f;
    /** 1.5·2^23: (v + MAGIC) − MAGIC rounds v to an integer, ties to even. */
    private static final float MAGIC = 12582912f;

    private VectorExp() {}

    /**
     * x[o + i] = e^(x[o + i] − shift) for i &lt; n, in place. The last part is masked, not scalar, so
     * each value's bits do not depend on where a range starts or ends. (Summing the results here as
     * well took the method past C2's inlining budget: its vectors were then allocated.)
     */
    public static void expShifted(float[] x, int o, int n, float shift) {
        for (int i = 0; i < n; i += F.length()) {
            VectorMask<Float> in = F.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(F, x, o + i, in).sub(shift);
            FloatVector c = v.max(LOWEST).min(HIGHEST);
            FloatVector k = c.mul(LOG2E).add(MAGIC).sub(MAGIC);
            FloatVector r = c.sub(k.mul(LN2_HI)).sub(k.mul(LN2_LO));
            FloatVector p = r.mul(1.9875691500E-4f).add(1.3981999507E-3f).mul(r).add(8.3334519073E-3f).mul(r).add(4.1665795894E-2f)
                    .mul(r).add(1.6666665459E-1f).mul(r).add(5.0000001201E-1f).mul(r.mul(r)).add(r).add(1f);
            // 2^k from its exponent bits: k is in [-126, 127] after the clamp
            FloatVector scale = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = p.mul(scale);
            e = e.blend(0f, v.compare(VectorOperators.LT, LOWEST)).blend(Float.POSITIVE_INFINITY, v.compare(VectorOperators.GT, OVERFLOW))
                    .blend(v, v.test(VectorOperators.IS_NAN));
            e.intoArray(x, o + i, in);
        }
    }
}
