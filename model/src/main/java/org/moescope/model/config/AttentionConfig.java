package org.moescope.model.config;

import java.util.Arrays;

/**
 * Self-attention: grouped-query (GQA, with MHA and MQA as special cases) or multi-head latent
 * (MLA, when {@code mla} is set), with the options that distinguish the architectures.
 *
 * @param headDim         query/key head size (for MLA: nope + rope dims)
 * @param valueHeadDim    value head size
 * @param qkNorm          RMSNorm of queries and keys before RoPE
 * @param qkvBias         q/k/v projections have biases
 * @param outputBias      the output projection has a bias
 * @param sinks           per-head attention sink logits (gpt-oss)
 * @param slidingWindow   window length of sliding layers (0: none)
 * @param slidingLayers   which layers use the sliding window (null: none)
 * @param scale           softmax scale of q·k (1/sqrt(headDim) unless the architecture says otherwise)
 */
public record AttentionConfig(
        int heads,
        int keyValueHeads,
        int headDim,
        int valueHeadDim,
        QkNorm qkNorm,
        boolean qkvBias,
        boolean outputBias,
        boolean sinks,
        int slidingWindow,
        boolean[] slidingLayers,
        MlaConfig mla,
        double scale) {

    public AttentionConfig {
        slidingLayers = slidingLayers == null ? null : slidingLayers.clone();
        if (heads <= 0 || keyValueHeads <= 0 || heads % keyValueHeads != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") must be a positive multiple of key-value heads (" + keyValueHeads + ")");
        }
    }

    /** Where queries and keys are RMS-normalised, if at all. */
    public enum QkNorm {
        NONE,
        /** over each head (Qwen3, GLM-4 MoE): weights of size headDim */
        PER_HEAD,
        /** over the whole projection (OLMoE): weights of size heads·headDim and kvHeads·headDim */
        WHOLE
    }

    public boolean isLatent() { return mla != null; }

    public boolean isSliding(int layer) {
        return slidingWindow > 0 && slidingLayers != null && layer < slidingLayers.length && slidingLayers[layer];
    }

    public int queryWidth() { return heads * headDim; }

    public int keyWidth() { return keyValueHeads * headDim; }

    public int valueWidth() { return keyValueHeads * valueHeadDim; }

    @Override
    public boolean[] slidingLayers() { return slidingLayers == null ? null : slidingLayers.clone(); }

    @Override
    public boolean equals(Object o) {
        return o instanceof AttentionConfig a && heads == a.heads && keyValueHeads == a.keyValueHeads && headDim == a.headDim
                && valueHeadDim == a.valueHeadDim && qkNorm == a.qkNorm && qkvBias == a.qkvBias && outputBias == a.outputBias
                && sinks == a.sinks && slidingWindow == a.slidingWindow && Arrays.equals(slidingLayers, a.slidingLayers)
                && java.util.Objects.equals(mla, a.mla) && scale == a.scale;
    }

    @Override
    public int hashCode() { return java.util.Objects.hash(heads, keyValueHeads, headDim, mla, Arrays.hashCode(slidingLayers)); }

    /**
     * Multi-head latent attention (DeepSeek-V2/V3): keys and values are compressed to a latent of
     * {@code kvLoraRank} plus a shared RoPE key of {@code ropeDim}; queries optionally through a
     * LoRA of {@code queryLoraRank} (0: a plain projection).
     */
    public record MlaConfig(int queryLoraRank, int kvLoraRank, int nopeDim, int ropeDim, int valueDim) {}
}
