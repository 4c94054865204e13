package org.moescope.model.config;

import java.util.Arrays;

/**
 * The mixture-of-experts part of a model.
 *
 * @param experts                routed experts per MoE layer
 * @param expertsPerToken        experts selected per token (top-k)
 * @param expertFeedForwardSize  intermediate size of one routed expert
 * @param sharedExperts          number of always-on shared experts (0: none)
 * @param sharedFeedForwardSize  intermediate size of the shared expert MLP (all shared experts fused)
 * @param sharedExpertGate       the shared expert's output is scaled by sigmoid(w·x) (Qwen2-MoE)
 * @param moeLayers              which layers have a MoE block; the others a dense MLP
 * @param activation             the experts' gated activation
 * @param expertBias             experts' projections have biases (gpt-oss)
 */
public record MoeConfig(
        int experts,
        int expertsPerToken,
        int expertFeedForwardSize,
        int sharedExperts,
        int sharedFeedForwardSize,
        boolean sharedExpertGate,
        boolean[] moeLayers,
        RouterConfig router,
        Activation activation,
        boolean expertBias) {

    public MoeConfig {
        moeLayers = moeLayers.clone();
        if (experts <= 0 || expertsPerToken <= 0 || expertsPerToken > experts) {
            throw new IllegalArgumentException("experts per token (" + expertsPerToken + ") must be in 1.." + experts);
        }
    }

    public boolean isMoeLayer(int layer) { return layer < moeLayers.length && moeLayers[layer]; }

    @Override
    public boolean[] moeLayers() { return moeLayers.clone(); }

    @Override
    public boolean equals(Object o) {
        return o instanceof MoeConfig m && experts == m.experts && expertsPerToken == m.expertsPerToken
                && expertFeedForwardSize == m.expertFeedForwardSize && sharedExperts == m.sharedExperts
                && sharedFeedForwardSize == m.sharedFeedForwardSize && sharedExpertGate == m.sharedExpertGate
                && Arrays.equals(moeLayers, m.moeLayers) && router.equals(m.router) && activation.equals(m.activation)
                && expertBias == m.expertBias;
    }

    @Override
    public int hashCode() { return java.util.Objects.hash(experts, expertsPerToken, expertFeedForwardSize, router); }

    /** The gated activation inside an expert: act(gate) * up. */
    public sealed interface Activation permits SiluGlu, ClampedSwiglu {}

    /** silu(gate) * up (SwiGLU as in Llama). */
    public record SiluGlu() implements Activation {}

    /**
     * gpt-oss: gate clamped above at {@code limit}, up clamped to ±limit,
     * out = (up + 1) · gate · sigmoid(alpha · gate).
     */
    public record ClampedSwiglu(float alpha, float limit) implements Activation {}
}
