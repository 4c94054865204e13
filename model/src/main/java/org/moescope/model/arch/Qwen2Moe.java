package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;
import org.moescope.model.config.RouterConfig;

/** Qwen2-MoE (Qwen1.5-MoE): q/k/v biases; a shared expert scaled by sigmoid(gate·x); no top-k renormalisation. */
final class Qwen2Moe implements Architecture {
    @Override public String modelType() { return "qwen2_moe"; }

    @Override public String ggufName() { return "qwen2moe"; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        int layers = Common.layers(c);
        var attention = Common.gqa(c, QkNorm.NONE, c.getBool(true, "qkv_bias"), false);
        int shared = c.getInt(0, "shared_expert_intermediate_size");
        var moe = new MoeConfig(Common.experts(c), c.requireInt("num_experts_per_tok"), c.requireInt("moe_intermediate_size"),
                shared > 0 ? 1 : 0, shared, shared > 0, Common.qwenMoeLayers(c, layers),
                RouterConfig.softmax(c.getBool(false, "norm_topk_prob")), new MoeConfig.SiluGlu(), false);
        return new ModelConfig(modelType(), Common.hidden(c), layers, Common.vocabulary(c), Common.context(c), Common.epsilon(c),
                attention, Common.rope(c, attention.headDim(), false), c.getInt(0, "intermediate_size"), moe,
                ModelConfig.Scales.NONE, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        int layers = Common.layers(g);
        var attention = Common.gqa(g, QkNorm.NONE, true, false);
        int shared = g.getInt("expert_shared_feed_forward_length", 0);
        var moe = new MoeConfig(g.requireInt("expert_count"), g.requireInt("expert_used_count"),
                g.requireInt("expert_feed_forward_length"), shared > 0 ? 1 : 0, shared, shared > 0, Common.leadingDense(g, layers),
                RouterConfig.softmax(g.getBool("expert_weights_norm", false)), new MoeConfig.SiluGlu(), false);
        return new ModelConfig(modelType(), Common.hidden(g), layers, Common.vocabulary(g), Common.context(g), Common.epsilon(g),
                attention, Common.rope(g, attention.headDim(), false), g.getInt("feed_forward_length", 0), moe,
                ModelConfig.Scales.NONE, false);
    }
}
