package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;
import org.moescope.model.config.RouterConfig;

/** OLMoE: QK-norm over the whole q and k projections (before splitting into heads); softmax router. */
final class Olmoe implements Architecture {
    @Override public String modelType() { return "olmoe"; }

    @Override public String ggufName() { return "olmoe"; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        int layers = Common.layers(c);
        var attention = Common.gqa(c, QkNorm.WHOLE, c.getBool(false, "attention_bias"), c.getBool(false, "attention_bias"));
        var moe = new MoeConfig(Common.experts(c), c.requireInt("num_experts_per_tok"), c.requireInt("intermediate_size"),
                0, 0, false, Common.leadingDense(layers, 0), RouterConfig.softmax(c.getBool(false, "norm_topk_prob")),
                new MoeConfig.SiluGlu(), false);
        return new ModelConfig(modelType(), Common.hidden(c), layers, Common.vocabulary(c), Common.context(c), Common.epsilon(c),
                attention, Common.rope(c, attention.headDim(), false), 0, moe, ModelConfig.Scales.NONE, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        int layers = Common.layers(g);
        var attention = Common.gqa(g, QkNorm.WHOLE, false, false);
        int ffn = g.getInt("expert_feed_forward_length", g.requireInt("feed_forward_length"));
        var moe = new MoeConfig(g.requireInt("expert_count"), g.requireInt("expert_used_count"), ffn, 0, 0, false,
                Common.leadingDense(g, layers), RouterConfig.softmax(g.getBool("expert_weights_norm", false)),
                new MoeConfig.SiluGlu(), false);
        return new ModelConfig(modelType(), Common.hidden(g), layers, Common.vocabulary(g), Common.context(g), Common.epsilon(g),
                attention, Common.rope(g, attention.headDim(), false), 0, moe, ModelConfig.Scales.NONE, false);
    }
}
