package org.moescope.model.config;

import java.util.Objects;

/**
 * Everything about a model's shape and arithmetic that is not a weight: one description for all
 * architectures and both file formats. Architecture files fill it from HF {@code config.json} or
 * GGUF metadata; the forward pass reads only this.
 *
 * @param architecture     the HF {@code model_type} ("qwen3_moe", "deepseek_v3", ...)
 * @param feedForwardSize  intermediate size of dense MLP layers (0 when the model has none)
 * @param moe              the mixture-of-experts part, or null for a dense model
 */
public record ModelConfig(
        String architecture,
        int hiddenSize,
        int layerCount,
        int vocabularySize,
        int contextLength,
        float normEpsilon,
        AttentionConfig attention,
        RopeConfig rope,
        int feedForwardSize,
        MoeConfig moe,
        Scales scales,
        boolean tiedEmbeddings) {

    public ModelConfig {
        Objects.requireNonNull(architecture);
        Objects.requireNonNull(attention);
        Objects.requireNonNull(rope);
        Objects.requireNonNull(scales);
        if (hiddenSize <= 0 || layerCount <= 0 || vocabularySize <= 0) {
            throw new IllegalArgumentException("hidden size, layer count and vocabulary size must be positive");
        }
    }

    public boolean isMoe() { return moe != null; }

    /** Whether layer {@code layer} has a mixture-of-experts block (false: a dense MLP). */
    public boolean isMoeLayer(int layer) { return moe != null && moe.isMoeLayer(layer); }

    /** Number of leading or interleaved dense layers in a MoE model. */
    public int denseLayerCount() {
        if (moe == null) return layerCount;
        int n = 0;
        for (int l = 0; l < layerCount; l++) if (!moe.isMoeLayer(l)) n++;
        return n;
    }

    /** Multipliers of Granite-style models; all 1 for the others. */
    public record Scales(float embedding, float residual, float logitsDivisor) {
        public static final Scales NONE = new Scales(1, 1, 1);
    }
}
