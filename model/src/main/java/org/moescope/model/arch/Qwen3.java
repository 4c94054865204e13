package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;

/** Qwen3 (dense): Llama with per-head QK-norm. */
final class Qwen3 implements Architecture {
    @Override public String modelType() { return "qwen3"; }

    @Override public String ggufName() { return "qwen3"; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        var attention = Common.gqa(c, QkNorm.PER_HEAD, c.getBool(false, "attention_bias"), c.getBool(false, "attention_bias"));
        return new ModelConfig(modelType(), Common.hidden(c), Common.layers(c), Common.vocabulary(c), Common.context(c),
                Common.epsilon(c), attention, Common.rope(c, attention.headDim(), false), c.requireInt("intermediate_size"),
                null, ModelConfig.Scales.NONE, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        var attention = Common.gqa(g, QkNorm.PER_HEAD, false, false);
        return new ModelConfig(modelType(), Common.hidden(g), Common.layers(g), Common.vocabulary(g), Common.context(g),
                Common.epsilon(g), attention, Common.rope(g, attention.headDim(), false), g.requireInt("feed_forward_length"),
                null, ModelConfig.Scales.NONE, false);
    }
}
