package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig;
import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;
import org.moescope.model.config.RopeConfig;
import org.moescope.model.config.RouterConfig;
import org.moescope.model.config.RouterConfig.GroupScore;
import org.moescope.model.config.RouterConfig.Scoring;

/**
 * GLM-4 MoE (GLM-4.5/4.6): partial rotary (the first partial_rotary_factor of each head), optional
 * per-head QK-norm, q/k/v biases, DeepSeek-V3's sigmoid router with correction bias and groups,
 * a shared expert, dense first layers.
 */
final class Glm4Moe implements Architecture {
    @Override public String modelType() { return "glm4_moe"; }

    @Override public String ggufName() { return "glm4moe"; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        int layers = Common.layers(c);
        int heads = Common.heads(c);
        int headDim = Common.headDim(c);
        var attention = new AttentionConfig(heads, c.getInt(heads, "num_key_value_heads"), headDim, headDim,
                c.getBool(false, "use_qk_norm") ? QkNorm.PER_HEAD : QkNorm.NONE, c.getBool(false, "attention_bias"), false, false,
                0, null, null, 1 / Math.sqrt(headDim));
        double partial = c.getDouble(0.5, "rope_parameters.partial_rotary_factor", "partial_rotary_factor");
        var router = new RouterConfig(Scoring.SIGMOID, true, c.getInt(1, "n_group"), c.getInt(1, "topk_group"), GroupScore.TOP2_SUM,
                c.getBool(true, "norm_topk_prob"), (float) c.getDouble(1, "routed_scaling_factor"), false);
        int expertFfn = c.requireInt("moe_intermediate_size");
        int shared = c.getInt(0, "n_shared_experts");
        var moe = new MoeConfig(Common.experts(c), c.requireInt("num_experts_per_tok"), expertFfn, shared, shared * expertFfn, false,
                Common.leadingDense(layers, c.getInt(0, "first_k_dense_replace")), router, new MoeConfig.SiluGlu(), false);
        var rope = new RopeConfig(Common.ropeTheta(c), (int) (headDim * partial), false, Common.ropeScaling(c, true));
        return new ModelConfig(modelType(), Common.hidden(c), layers, Common.vocabulary(c), Common.context(c), Common.epsilon(c),
                attention, rope, c.requireInt("intermediate_size"), moe, ModelConfig.Scales.NONE, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        int layers = Common.layers(g);
        var attention = Common.gqa(g, QkNorm.PER_HEAD, true, false);
        var router = new RouterConfig(Scoring.SIGMOID, true, g.getInt("expert_group_count", 1), g.getInt("expert_group_used_count", 1),
                GroupScore.TOP2_SUM, g.getBool("expert_weights_norm", true), (float) g.getDouble("expert_weights_scale", 1), false);
        int expertFfn = g.requireInt("expert_feed_forward_length");
        int shared = g.getInt("expert_shared_count", 0);
        var moe = new MoeConfig(g.requireInt("expert_count"), g.requireInt("expert_used_count"), expertFfn, shared, shared * expertFfn,
                false, Common.leadingDense(g, layers), router, new MoeConfig.SiluGlu(), false);
        return new ModelConfig(modelType(), Common.hidden(g), layers, Common.vocabulary(g), Common.context(g), Common.epsilon(g),
                attention, Common.rope(g, attention.headDim(), false), g.requireInt("feed_forward_length"), moe,
                ModelConfig.Scales.NONE, false);
    }
}
