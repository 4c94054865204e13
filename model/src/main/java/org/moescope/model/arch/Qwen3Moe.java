package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;
import org.moescope.model.config.RouterConfig;

/** Qwen3-MoE: per-head QK-norm; softmax router, top-k renormalised when norm_topk_prob. */
final class Qwen3Moe implements Architecture {
    @Override public String modelType() { return "qwen3_moe"; }

    @Override public String ggufName() { return "qwen3moe"; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        int layers = Common.layers(c);
        var attention = Common.gqa(c, QkNorm.PER_HEAD, c.getBool(false, "attention_bias"), c.getBool(false, "attention_bias"));
        var moe = new MoeConfig(Common.experts(c), c.requireInt("num_experts_per_tok"), c.requireInt("moe_intermediate_size"),
                0, 0, false, Common.qwenMoeLayers(c, layers), RouterConfig.softmax(c.getBool(false, "norm_topk_prob")),
                new MoeConfig.SiluGlu(), false);
        return new ModelConfig(modelType(), Common.hidden(c), layers, Common.vocabulary(c), Common.context(c), Common.epsilon(c),
                attention, Common.rope(c, attention.headDim(), false), c.getInt(0, "intermediate_size"), moe,
                ModelConfig.Scales.NONE, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        int layers = Common.layers(g);
        var attention = Common.gqa(g, QkNorm.PER_HEAD, false, false);
        // llama.cpp's qwen3moe graph always renormalises the selected weights (norm_w = true).
        var moe = new MoeConfig(g.requireInt("expert_count"), g.requireInt("expert_used_count"),
                g.requireInt("expert_feed_forward_length"), 0, 0, false, Common.leadingDense(g, layers),
                RouterConfig.softmax(g.getBool("expert_weights_norm", true)), new MoeConfig.SiluGlu(), false);
        return new ModelConfig(modelType(), Common.hidden(g), layers, Common.vocabulary(g), Common.context(g), Common.epsilon(g),
                attention, Common.rope(g, attention.headDim(), false), g.getInt("feed_forward_length", 0), moe,
                ModelConfig.Scales.NONE, false);
    }
}
