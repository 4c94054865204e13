package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig.QkNorm;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;

/** Llama (dense): the baseline block; in GGUF its q/k rows are permuted for interleaved RoPE. */
final class Llama implements Architecture {
    @Override public String modelType() { return "llama"; }

    @Override public String ggufName() { return "llama"; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        var attention = Common.gqa(c, QkNorm.NONE, c.getBool(false, "attention_bias"), c.getBool(false, "attention_bias"));
        return new ModelConfig(modelType(), Common.hidden(c), Common.layers(c), Common.vocabulary(c), Common.context(c),
                (float) c.getDouble(1e-5, "rms_norm_eps"), attention, Common.rope(c, attention.headDim(), false),
                c.requireInt("intermediate_size"), null, ModelConfig.Scales.NONE, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        var attention = Common.gqa(g, QkNorm.NONE, false, false);
        return new ModelConfig(modelType(), Common.hidden(g), Common.layers(g), Common.vocabulary(g), Common.context(g),
                Common.epsilon(g), attention, Common.rope(g, attention.headDim(), true), g.requireInt("feed_forward_length"),
                null, ModelConfig.Scales.NONE, false);
    }
}
