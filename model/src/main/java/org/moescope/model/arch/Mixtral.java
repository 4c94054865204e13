package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;
import org.moescope.model.config.RouterConfig;
import org.moescope.model.weights.HfNames;

/**
 * Mixtral: Llama attention; softmax router with the top-k weights renormalised. In GGUF it is
 * {@code llama} with an expert count, its q/k rows permuted for llama.cpp's interleaved RoPE.
 */
final class Mixtral implements Architecture {
    @Override public String modelType() { return "mixtral"; }

    @Override public String ggufName() { return "llama"; }

    @Override public HfNames hfNames() { return HfNames.MIXTRAL; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        int layers = Common.layers(c);
        var attention = Common.gqa(c, QkNorm.NONE, false, false);
        var moe = new MoeConfig(Common.experts(c), c.requireInt("num_experts_per_tok"), c.requireInt("intermediate_size"),
                0, 0, false, Common.leadingDense(layers, 0), RouterConfig.softmax(true), new MoeConfig.SiluGlu(), false);
        return new ModelConfig(modelType(), Common.hidden(c), layers, Common.vocabulary(c), Common.context(c),
                (float) c.getDouble(1e-5, "rms_norm_eps"), attention, Common.rope(c, attention.headDim(), false), 0, moe,
                ModelConfig.Scales.NONE, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        int layers = Common.layers(g);
        var attention = Common.gqa(g, QkNorm.NONE, false, false);
        int ffn = g.getInt("expert_feed_forward_length", g.requireInt("feed_forward_length"));
        var moe = new MoeConfig(g.requireInt("expert_count"), g.requireInt("expert_used_count"), ffn, 0, 0, false,
                Common.leadingDense(g, layers), RouterConfig.softmax(true), new MoeConfig.SiluGlu(), false);
        return new ModelConfig(modelType(), Common.hidden(g), layers, Common.vocabulary(g), Common.context(g), Common.epsilon(g),
                attention, Common.rope(g, attention.headDim(), true), 0, moe, ModelConfig.Scales.NONE, false);
    }
}
