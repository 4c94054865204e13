package org.moescope.model.forward;

import org.moescope.format.TensorData;
import org.moescope.tensor.Kernel;

/** Rows of stored tensors as float, in any stored type (embedding lookups, norm weights, biases). */
final class Dequantize {
    private Dequantize() {}

    static void row(TensorData t, long row, float[] out, int offset) {
        int n = Math.toIntExact(t.columns());
        Kernel.of(t.type()).dequantize(t.data(), row * t.type().bytesFor(n), out, offset, n);
    }

    static float[] all(TensorData t) {
        int cols = Math.toIntExact(t.columns());
        int rows = Math.toIntExact(t.rows());
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) row(t, r, out, r * cols);
        return out;
    }
}
