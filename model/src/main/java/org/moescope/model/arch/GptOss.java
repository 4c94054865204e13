package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig;
import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;
import org.moescope.model.config.RopeConfig;
import org.moescope.model.config.RouterConfig;
import org.moescope.model.weights.HfNames;

/**
 * gpt-oss: attention sinks, sliding-window layers alternating with full ones, q/k/v/o biases,
 * a router with a bias whose top-k logits are softmaxed (= softmax then renormalise), experts with
 * biases and a clamped SwiGLU, YaRN RoPE (HF's, with truncate=false).
 */
final class GptOss implements Architecture {
    /** GptOssExperts: alpha = 1.702, limit = config.swiglu_limit (7.0). */
    private static final float ALPHA = 1.702f;

    @Override public String modelType() { return "gpt_oss"; }

    @Override public String ggufName() { return "gpt-oss"; }

    @Override public HfNames hfNames() { return HfNames.GPT_OSS; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        int layers = Common.layers(c);
        int heads = Common.heads(c);
        int headDim = Common.headDim(c);
        boolean[] sliding = new boolean[layers];
        var types = c.find("layer_types");
        for (int l = 0; l < layers; l++) {
            sliding[l] = types.isPresent() ? "sliding_attention".equals(types.get().get(l).asText()) : l % 2 == 0;
        }
        var attention = new AttentionConfig(heads, c.getInt(heads, "num_key_value_heads"), headDim, headDim, QkNorm.NONE, true,
                true, true, c.getInt(0, "sliding_window"), sliding, null, 1 / Math.sqrt(headDim));
        var moe = new MoeConfig(Common.experts(c), c.requireInt("num_experts_per_tok"), c.requireInt("intermediate_size"),
                0, 0, false, Common.leadingDense(layers, 0), withBias(RouterConfig.softmax(true)),
                new MoeConfig.ClampedSwiglu(ALPHA, (float) c.getDouble(7, "swiglu_limit")), true);
        var rope = new RopeConfig(Common.ropeTheta(c), headDim, false, Common.ropeScaling(c, false));
        return new ModelConfig(modelType(), Common.hidden(c), layers, Common.vocabulary(c), Common.context(c), Common.epsilon(c),
                attention, rope, 0, moe, ModelConfig.Scales.NONE, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        int layers = Common.layers(g);
        int heads = Common.heads(g);
        int headDim = Common.headDim(g);
        // llama.cpp's gpt-oss: layer il uses the sliding window when il % 2 == 0
        boolean[] sliding = new boolean[layers];
        for (int l = 0; l < layers; l++) sliding[l] = l % 2 == 0;
        var attention = new AttentionConfig(heads, g.getInt("attention.head_count_kv", heads), headDim,
                g.getInt("attention.value_length", headDim), QkNorm.NONE, true, true, true, g.getInt("attention.sliding_window", 0),
                sliding, null, 1 / Math.sqrt(headDim));
        var moe = new MoeConfig(g.requireInt("expert_count"), g.requireInt("expert_used_count"),
                g.requireInt("expert_feed_forward_length"), 0, 0, false, Common.leadingDense(layers, 0),
                withBias(RouterConfig.softmax(true)), new MoeConfig.ClampedSwiglu(ALPHA, (float) g.getDouble("swiglu_limit", 7)), true);
        // HF is the reference for gpt-oss (shared/README): its YaRN uses truncate=false.
        var rope = new RopeConfig(g.getDouble("rope.freq_base", 10000), headDim, false, Common.ropeScaling(g, false));
        return new ModelConfig(modelType(), Common.hidden(g), layers, Common.vocabulary(g), Common.context(g), Common.epsilon(g),
                attention, rope, 0, moe, ModelConfig.Scales.NONE, false);
    }

    private static RouterConfig withBias(RouterConfig r) {
        return new RouterConfig(r.scoring(), r.selectionBias(), r.groups(), r.topGroups(), r.groupScore(), r.normalize(), r.scale(), true);
    }
}
