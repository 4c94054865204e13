package org.moescope.model.forward;

import org.moescope.format.TensorData;

/**
 * y = W·x + b over a batch of input rows, W stored [out, in] in its file type. The batch form lets
 * one read of a weight row serve every token of a prefill batch.
 */
public final class Linear {
    private final TensorData weight;
    private final float[] bias;
    private final int in;
    private final int out;

    public Linear(TensorData weight, TensorData bias) {
        this.weight = weight;
        this.in = Math.toIntExact(weight.columns());
        this.out = Math.toIntExact(weight.rows());
        this.bias = bias == null ? null : Dequantize.all(bias);
    }

    public static Linear of(TensorData weight) { return new Linear(weight, null); }

    public int in() { return in; }

    public int out() { return out; }

    public TensorData weight() { return weight; }

    /** y[yOffset + t·yStride + r] = Σ W[r]·x[xOffset + t·xStride ...] (+ b[r]) for t < tokens. */
    public void apply(float[] x, int xOffset, int xStride, float[] y, int yOffset, int yStride, int tokens) {
        float[] row = new float[in];
        for (int r = 0; r < out; r++) {
            Dequantize.row(weight, r, row, 0);
            float b = bias == null ? 0 : bias[r];
            for (int t = 0; t < tokens; t++) {
                int xo = xOffset + t * xStride;
                float s = 0;
                for (int i = 0; i < in; i++) s += row[i] * x[xo + i];
                y[yOffset + t * yStride + r] = s + b;
            }
        }
    }

    /** Contiguous batch: x is [tokens, in], y is [tokens, out]. */
    public void apply(float[] x, float[] y, int tokens) {
        apply(x, 0, in, y, 0, out, tokens);
    }
}
