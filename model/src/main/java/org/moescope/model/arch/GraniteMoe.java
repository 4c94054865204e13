package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig;
import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;
import org.moescope.model.config.RouterConfig;
import org.moescope.model.weights.HfNames;

/**
 * Granite-MoE: Mixtral-like routing (softmax of the top-k logits) with Granite's multipliers:
 * embeddings × embedding_multiplier, attention scale = attention_multiplier, each residual branch
 * × residual_multiplier, logits ÷ logits_scaling. In GGUF its q/k are permuted for interleaved RoPE.
 */
final class GraniteMoe implements Architecture {
    @Override public String modelType() { return "granitemoe"; }

    @Override public String ggufName() { return "granitemoe"; }

    @Override public HfNames hfNames() { return HfNames.GRANITE; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        int layers = Common.layers(c);
        int heads = Common.heads(c);
        int headDim = Common.headDim(c);
        boolean bias = c.getBool(false, "attention_bias");
        var attention = new AttentionConfig(heads, c.getInt(heads, "num_key_value_heads"), headDim, headDim, QkNorm.NONE, bias, bias,
                false, 0, null, null, c.getDouble(1 / Math.sqrt(headDim), "attention_multiplier"));
        var moe = new MoeConfig(Common.experts(c), c.requireInt("num_experts_per_tok"), c.requireInt("intermediate_size"), 0, 0,
                false, Common.leadingDense(layers, 0), RouterConfig.softmax(true), new MoeConfig.SiluGlu(), false);
        var scales = new ModelConfig.Scales((float) c.getDouble(1, "embedding_multiplier"), (float) c.getDouble(1, "residual_multiplier"),
                (float) c.getDouble(1, "logits_scaling"));
        return new ModelConfig(modelType(), Common.hidden(c), layers, Common.vocabulary(c), Common.context(c), Common.epsilon(c),
                attention, Common.rope(c, headDim, false), 0, moe, scales, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        int layers = Common.layers(g);
        int heads = Common.heads(g);
        int headDim = Common.headDim(g);
        var attention = new AttentionConfig(heads, g.getInt("attention.head_count_kv", heads), headDim, headDim, QkNorm.NONE, false,
                false, false, 0, null, null, g.getDouble("attention.scale", 1 / Math.sqrt(headDim)));
        int ffn = g.getInt("expert_feed_forward_length", g.requireInt("feed_forward_length"));
        var moe = new MoeConfig(g.requireInt("expert_count"), g.requireInt("expert_used_count"), ffn, 0, 0, false,
                Common.leadingDense(layers, 0), RouterConfig.softmax(true), new MoeConfig.SiluGlu(), false);
        var scales = new ModelConfig.Scales((float) g.getDouble("embedding_scale", 1), (float) g.getDouble("residual_scale", 1),
                (float) g.getDouble("logit_scale", 1));
        return new ModelConfig(modelType(), Common.hidden(g), layers, Common.vocabulary(g), Common.context(g), Common.epsilon(g),
                attention, Common.rope(g, headDim, true), 0, moe, scales, false);
    }
}
