package org.moescope.model.forward;

import org.moescope.format.TensorData;

/** RMSNorm (Zhang & Sennrich 2019) as HF's LlamaRMSNorm: x / sqrt(mean(x²) + eps) · w, in float32. */
final class RmsNorm {
    private final float[] weight;
    private final float epsilon;

    RmsNorm(TensorData weight, float epsilon) {
        this.weight = Dequantize.all(weight);
        this.epsilon = epsilon;
    }

    int size() { return weight.length; }

    /** Normalises {@code count} consecutive vectors of this norm's size, from x into y (may be the same array). */
    void apply(float[] x, int xOffset, float[] y, int yOffset, int count) {
        int n = weight.length;
        for (int v = 0; v < count; v++) {
            int xo = xOffset + v * n;
            int yo = yOffset + v * n;
            float sum = 0;
            for (int i = 0; i < n; i++) sum += x[xo + i] * x[xo + i];
            float inverse = (float) (1.0 / Math.sqrt(sum / n + epsilon));
            for (int i = 0; i < n; i++) y[yo + i] = weight[i] * (x[xo + i] * inverse);
        }
    }

    /** In place, over vectors spaced {@code stride} apart (e.g. each head inside a row). */
    void applyStrided(float[] x, int offset, int stride, int count) {
        for (int v = 0; v < count; v++) apply(x, offset + v * stride, x, offset + v * stride, 1);
    }
}
