package org.moescope.model.forward;

import org.moescope.model.config.RopeConfig;

/**
 * Rotary position embedding (Su et al. 2021) with HF's frequency schedules
 * (modeling_rope_utils.py: default, linear, yarn, llama3). cos/sin are computed in double from
 * float32 frequencies, as HF computes inverse frequencies in float32.
 */
final class Rope {
    private final int dimensions;
    private final boolean interleaved;
    private final float[] inverseFrequency;
    private final double attentionFactor;

    Rope(RopeConfig config) {
        this.dimensions = config.dimensions();
        this.interleaved = config.interleaved();
        int half = dimensions / 2;
        inverseFrequency = new float[half];
        double factor = 1;
        for (int i = 0; i < half; i++) inverseFrequency[i] = (float) (1.0 / Math.pow(config.theta(), (2.0 * i) / dimensions));
        switch (config.scaling()) {
            case RopeConfig.None n -> {}
            case RopeConfig.Linear l -> { for (int i = 0; i < half; i++) inverseFrequency[i] = (float) (inverseFrequency[i] / l.factor()); }
            case RopeConfig.Yarn y -> { yarn(config.theta(), y); factor = y.attentionFactor(); }
            case RopeConfig.Llama3 l -> llama3(l);
        }
        this.attentionFactor = factor;
    }

    /** HF _compute_yarn_parameters: blend interpolated and extrapolated frequencies over a linear ramp. */
    private void yarn(double base, RopeConfig.Yarn y) {
        int dim = dimensions;
        double low = correctionDim(y.betaFast(), dim, base, y.originalContext());
        double high = correctionDim(y.betaSlow(), dim, base, y.originalContext());
        if (y.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001;
        for (int i = 0; i < dim / 2; i++) {
            float posFreq = (float) Math.pow(base, (2.0 * i) / dim);
            float extrapolation = 1f / posFreq;
            float interpolation = (float) (1.0 / (y.factor() * posFreq));
            float ramp = (float) Math.min(1, Math.max(0, (i - low) / (high - low)));
            float extrapolationFactor = 1 - ramp;
            inverseFrequency[i] = interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
    }

    private static double correctionDim(double rotations, int dim, double base, int maxPositions) {
        return dim * Math.log(maxPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    /** HF _compute_llama3_parameters. */
    private void llama3(RopeConfig.Llama3 l) {
        double lowWavelength = l.originalContext() / l.lowFrequencyFactor();
        double highWavelength = l.originalContext() / l.highFrequencyFactor();
        for (int i = 0; i < inverseFrequency.length; i++) {
            double f = inverseFrequency[i];
            double wavelength = 2 * Math.PI / f;
            if (wavelength > lowWavelength) {
                f = f / l.factor();
            } else if (wavelength >= highWavelength) {
                double smooth = (l.originalContext() / wavelength - l.lowFrequencyFactor()) / (l.highFrequencyFactor() - l.lowFrequencyFactor());
                f = (1 - smooth) * f / l.factor() + smooth * f;
            }
            inverseFrequency[i] = (float) f;
        }
    }

    /**
     * cos and sin (times the attention factor) by position·half + i, for positions up to the highest
     * asked for so far; grown by doubling, published whole (the values are the same whoever computes
     * them, so concurrent sessions at worst compute a table twice).
     */
    private volatile float[][] table = {new float[0], new float[0]};

    private float[][] tableTo(int position) {
        int half = dimensions / 2;
        float[][] t = table;
        if ((long) (position + 1) * half <= t[0].length) return t;
        int positions = Math.max(position + 1, 2 * t[0].length / Math.max(1, half));
        float[] cos = java.util.Arrays.copyOf(t[0], positions * half), sin = java.util.Arrays.copyOf(t[1], positions * half);
        for (int p = t[0].length / Math.max(1, half); p < positions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * inverseFrequency[i]; // float32 product, as HF's freqs
                cos[p * half + i] = (float) (Math.cos(angle) * attentionFactor);
                sin[p * half + i] = (float) (Math.sin(angle) * attentionFactor);
            }
        }
        float[][] grown = {cos, sin};
        table = grown;
        return grown;
    }

    /**
     * Rotates the first {@code dimensions} values of {@code count} vectors (heads) at
     * {@code x[offset + v·stride]} for position {@code position}.
     */
    void apply(float[] x, int offset, int stride, int count, int position) {
        int half = dimensions / 2;
        float[][] t = tableTo(position);
        float[] cosines = t[0], sines = t[1];
        for (int i = 0, at = position * half; i < half; i++, at++) {
            float cos = cosines[at], sin = sines[at];
            for (int v = 0; v < count; v++) {
                int base = offset + v * stride;
                int a = interleaved ? base + 2 * i : base + i;
                int b = interleaved ? a + 1 : a + half;
                float x0 = x[a];
                float x1 = x[b];
                x[a] = x0 * cos - x1 * sin;
                x[b] = x1 * cos + x0 * sin;
            }
        }
    }
}
