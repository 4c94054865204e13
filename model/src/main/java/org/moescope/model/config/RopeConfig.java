package org.moescope.model.config;

/**
 * Rotary position embedding.
 *
 * @param theta       base frequency
 * @param dimensions  rotated dimensions per head (less than the head size for partial rotary)
 * @param interleaved rotate adjacent pairs (x0,x1),(x2,x3)... (GPT-J, llama.cpp's "norm" mode) instead
 *                    of the two halves (x_i, x_{i+d/2}) (GPT-NeoX, HF's rotate_half)
 * @param scaling     frequency scaling for long contexts
 */
public record RopeConfig(double theta, int dimensions, boolean interleaved, Scaling scaling) {

    public RopeConfig {
        if (dimensions <= 0 || dimensions % 2 != 0) throw new IllegalArgumentException("rope dimensions must be even and positive: " + dimensions);
        if (scaling == null) scaling = new None();
    }

    public sealed interface Scaling permits None, Linear, Yarn, Llama3 {}

    public record None() implements Scaling {}

    /** Positions divided by {@code factor}. */
    public record Linear(double factor) implements Scaling {}

    /**
     * YaRN (Peng et al. 2023) as HF's {@code _compute_yarn_parameters}: frequencies interpolated
     * between extrapolation and interpolation over a ramp set by betaFast/betaSlow; cos/sin scaled
     * by {@code attentionFactor}.
     */
    public record Yarn(double factor, int originalContext, double betaFast, double betaSlow, double attentionFactor,
                       boolean truncate) implements Scaling {}

    /** Llama 3.1's frequency-dependent scaling. */
    public record Llama3(double factor, double lowFrequencyFactor, double highFrequencyFactor, int originalContext) implements Scaling {}
}
