package org.moescope.model.forward;

import org.moescope.format.TensorData;
import org.moescope.tensor.Blocks;

/** Rows of stored tensors as float, in any stored type (embedding lookups, norm weights, biases). */
final class Dequantize {
    private Dequantize() {}

    /**
     * One row (an embedding lookup: one call per token). Plain scalar decoding, the same bits as the
     * kernels' vector decoding: a vector method called once per token takes a thousand tokens to be
     * compiled, and until then runs interpreted at 0.2-2 ms per row; this one costs 0.1-0.2 ms at
     * first and a few microseconds once compiled.
     */
    static void row(TensorData t, long row, float[] out, int offset) {
        int n = Math.toIntExact(t.columns());
        Blocks.dequantize(t.type(), t.data(), row * t.type().bytesFor(n), out, offset, n);
    }

    static float[] all(TensorData t) {
        int cols = Math.toIntExact(t.columns());
        int rows = Math.toIntExact(t.rows());
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) row(t, r, out, r * cols);
        return out;
    }
}
