package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig;
import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.RopeConfig;

/** Reading the parts of a config that most architectures spell the same way. */
final class Common {
    private Common() {}

    static int hidden(HfConfig c) { return c.requireInt("hidden_size"); }

    static int layers(HfConfig c) { return c.requireInt("num_hidden_layers"); }

    static int vocabulary(HfConfig c) { return c.requireInt("vocab_size"); }

    static int context(HfConfig c) { return c.getInt(4096, "max_position_embeddings"); }

    static float epsilon(HfConfig c) { return (float) c.getDouble(1e-6, "rms_norm_eps"); }

    static boolean tied(HfConfig c) { return c.getBool(false, "tie_word_embeddings"); }

    static int experts(HfConfig c) { return c.requireInt("num_experts", "num_local_experts", "n_routed_experts"); }

    static int heads(HfConfig c) { return c.requireInt("num_attention_heads"); }

    static int headDim(HfConfig c) {
        return c.getInt(hidden(c) / heads(c), "head_dim");
    }

    /** Plain grouped-query attention with the standard 1/sqrt(d) scale. */
    static AttentionConfig gqa(HfConfig c, QkNorm qkNorm, boolean qkvBias, boolean outputBias) {
        int heads = heads(c);
        int headDim = headDim(c);
        return new AttentionConfig(heads, c.getInt(heads, "num_key_value_heads"), headDim, headDim, qkNorm, qkvBias,
                outputBias, false, 0, null, null, 1 / Math.sqrt(headDim));
    }

    static double ropeTheta(HfConfig c) {
        return c.getDouble(10000, "rope_parameters.rope_theta", "rope_theta");
    }

    /** RoPE scaling from {@code rope_parameters} (transformers 5) or {@code rope_scaling} (older). */
    static RopeConfig.Scaling ropeScaling(HfConfig c, boolean yarnTruncateDefault) {
        String type = c.getString("rope_parameters.rope_type", "rope_parameters.type", "rope_scaling.rope_type", "rope_scaling.type")
                .orElse("default");
        String p = c.has("rope_parameters.rope_type") || c.has("rope_parameters.type") ? "rope_parameters." : "rope_scaling.";
        return switch (type) {
            case "default" -> new RopeConfig.None();
            case "linear" -> new RopeConfig.Linear(c.requireDouble(p + "factor"));
            case "yarn" -> {
                double factor = c.requireDouble(p + "factor");
                int original = c.getInt(context(c), p + "original_max_position_embeddings");
                double attentionFactor;
                if (c.has(p + "attention_factor")) {
                    attentionFactor = c.requireDouble(p + "attention_factor");
                } else if (c.has(p + "mscale") && c.has(p + "mscale_all_dim")) {
                    attentionFactor = yarnMscale(factor, c.requireDouble(p + "mscale")) / yarnMscale(factor, c.requireDouble(p + "mscale_all_dim"));
                } else {
                    attentionFactor = yarnMscale(factor, 1);
                }
                yield new RopeConfig.Yarn(factor, original, c.getDouble(32, p + "beta_fast"), c.getDouble(1, p + "beta_slow"),
                        attentionFactor, c.getBool(yarnTruncateDefault, p + "truncate"));
            }
            case "llama3" -> new RopeConfig.Llama3(c.requireDouble(p + "factor"), c.getDouble(1, p + "low_freq_factor"),
                    c.getDouble(4, p + "high_freq_factor"), c.requireInt(p + "original_max_position_embeddings"));
            default -> throw c.invalid(p + "rope_type", "RoPE type '" + type + "' is not supported");
        };
    }

    /** HF's get_mscale: 0.1·mscale·ln(factor) + 1 for factor > 1. */
    static double yarnMscale(double factor, double mscale) {
        return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
    }

    static RopeConfig rope(HfConfig c, int dimensions, boolean interleaved) {
        return new RopeConfig(ropeTheta(c), dimensions, interleaved, ropeScaling(c, true));
    }

    /** Layers listed in {@code mlp_only_layers} or off the {@code decoder_sparse_step} are dense. */
    static boolean[] qwenMoeLayers(HfConfig c, int layers) {
        boolean[] moe = new boolean[layers];
        int step = c.getInt(1, "decoder_sparse_step");
        java.util.Set<Integer> dense = new java.util.HashSet<>();
        c.find("mlp_only_layers").ifPresent(n -> n.forEach(v -> dense.add(v.asInt())));
        for (int l = 0; l < layers; l++) moe[l] = !dense.contains(l) && step > 0 && (l + 1) % step == 0;
        return moe;
    }

    /** The first {@code dense} layers are dense, the rest MoE. */
    static boolean[] leadingDense(int layers, int dense) {
        boolean[] moe = new boolean[layers];
        for (int l = dense; l < layers; l++) moe[l] = true;
        return moe;
    }

    // ---- GGUF ----

    static int hidden(GgufConfig g) { return g.requireInt("embedding_length"); }

    static int layers(GgufConfig g) { return g.requireInt("block_count"); }

    static int context(GgufConfig g) { return g.getInt("context_length", 4096); }

    static float epsilon(GgufConfig g) { return (float) g.getDouble("attention.layer_norm_rms_epsilon", 1e-5); }

    /** Vocabulary size: the key where present, else the token list's length. */
    static int vocabulary(GgufConfig g) {
        if (g.has("vocab_size")) return g.requireInt("vocab_size");
        return g.metadata().getArray("tokenizer.ggml.tokens").map(a -> a.length()).orElseThrow(() ->
                g.invalid("vocab_size", "missing, and there is no tokenizer.ggml.tokens to count"));
    }

    static int heads(GgufConfig g) { return g.requireInt("attention.head_count"); }

    static int headDim(GgufConfig g) { return g.getInt("attention.key_length", hidden(g) / heads(g)); }

    static AttentionConfig gqa(GgufConfig g, QkNorm qkNorm, boolean qkvBias, boolean outputBias) {
        int heads = heads(g);
        int headDim = headDim(g);
        int valueDim = g.getInt("attention.value_length", headDim);
        return new AttentionConfig(heads, g.getInt("attention.head_count_kv", heads), headDim, valueDim, qkNorm, qkvBias,
                outputBias, false, 0, null, null, 1 / Math.sqrt(headDim));
    }

    static RopeConfig.Scaling ropeScaling(GgufConfig g, boolean yarnTruncate) {
        String type = g.getString("rope.scaling.type").orElse("none");
        return switch (type) {
            case "none" -> new RopeConfig.None();
            case "linear" -> new RopeConfig.Linear(g.requireDouble("rope.scaling.factor"));
            case "yarn" -> {
                double factor = g.requireDouble("rope.scaling.factor");
                yield new RopeConfig.Yarn(factor, g.getInt("rope.scaling.original_context_length", context(g)),
                        g.getDouble("rope.scaling.yarn_beta_fast", 32), g.getDouble("rope.scaling.yarn_beta_slow", 1),
                        g.has("rope.scaling.attn_factor") ? g.requireDouble("rope.scaling.attn_factor") : yarnMscale(factor, 1),
                        yarnTruncate);
            }
            default -> throw g.invalid("rope.scaling.type", "RoPE scaling '" + type + "' is not supported");
        };
    }

    static RopeConfig rope(GgufConfig g, int headDim, boolean interleaved) {
        return new RopeConfig(g.getDouble("rope.freq_base", 10000), g.getInt("rope.dimension_count", headDim), interleaved,
                ropeScaling(g, true));
    }

    static boolean[] leadingDense(GgufConfig g, int layers) {
        return leadingDense(layers, g.getInt("leading_dense_block_count", 0));
    }
}
