package org.moescope.model.arch;

import org.moescope.model.config.AttentionConfig;
import org.moescope.model.config.AttentionConfig.MlaConfig;
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
 * DeepSeek-V2 and V3 (one GGUF architecture, {@code deepseek2}): multi-head latent attention with
 * interleaved RoPE on a shared key part, dense first layers, shared experts, and group-limited
 * routing. V2 (transformers' DeepseekV2Moe): softmax scores, groups ranked by their best expert,
 * weights × routed_scaling_factor, never renormalised. V3 (DeepseekV3TopkRouter, noaux_tc): sigmoid
 * scores, e_score_correction_bias for selection only, groups ranked by the sum of their two best,
 * weights renormalised when norm_topk_prob, then × routed_scaling_factor.
 */
final class Deepseek implements Architecture {
    private final boolean v3;

    Deepseek(boolean v3) { this.v3 = v3; }

    @Override public String modelType() { return v3 ? "deepseek_v3" : "deepseek_v2"; }

    @Override public String ggufName() { return "deepseek2"; }

    @Override
    public ModelConfig fromHf(HfConfig c) {
        int layers = Common.layers(c);
        int heads = Common.heads(c);
        int nope = c.requireInt("qk_nope_head_dim");
        int rope = c.requireInt("qk_rope_head_dim");
        var mla = new MlaConfig(c.getInt(0, "q_lora_rank"), c.requireInt("kv_lora_rank"), nope, rope, c.requireInt("v_head_dim"));
        RopeConfig.Scaling scaling = Common.ropeScaling(c, true);
        double scale = 1 / Math.sqrt(nope + rope);
        if (scaling instanceof RopeConfig.Yarn && c.has("rope_parameters.mscale_all_dim", "rope_scaling.mscale_all_dim")) {
            // DeepseekV3Attention: the softmax scale is multiplied by mscale² where mscale = get_mscale(factor, mscale_all_dim)
            double m = Common.yarnMscale(c.getDouble(1, "rope_parameters.factor", "rope_scaling.factor"),
                    c.getDouble(0, "rope_parameters.mscale_all_dim", "rope_scaling.mscale_all_dim"));
            scale *= m * m;
        }
        var attention = new AttentionConfig(heads, heads, nope + rope, mla.valueDim(), QkNorm.NONE,
                c.getBool(false, "attention_bias"), c.getBool(false, "attention_bias"), false, 0, null, mla, scale);
        var router = v3
                ? new RouterConfig(Scoring.SIGMOID, true, c.getInt(1, "n_group"), c.getInt(1, "topk_group"), GroupScore.TOP2_SUM,
                        c.getBool(false, "norm_topk_prob"), (float) c.getDouble(1, "routed_scaling_factor"), false)
                : new RouterConfig(Scoring.SOFTMAX, false,
                        "group_limited_greedy".equals(c.getString("topk_method").orElse("greedy")) ? c.getInt(1, "n_group") : 1,
                        c.getInt(1, "topk_group"), GroupScore.MAX, false, (float) c.getDouble(1, "routed_scaling_factor"), false);
        int expertFfn = c.requireInt("moe_intermediate_size");
        int shared = c.getInt(0, "n_shared_experts");
        var moe = new MoeConfig(Common.experts(c), c.requireInt("num_experts_per_tok"), expertFfn, shared, shared * expertFfn,
                false, Common.leadingDense(layers, c.getInt(0, "first_k_dense_replace")), router, new MoeConfig.SiluGlu(), false);
        // V2's rotary embedding is a complex product over adjacent pairs; V3 interleaves unless rope_interleave is false.
        boolean interleaved = !v3 || c.getBool(true, "rope_interleave");
        return new ModelConfig(modelType(), Common.hidden(c), layers, Common.vocabulary(c), Common.context(c), Common.epsilon(c),
                attention, new RopeConfig(Common.ropeTheta(c), rope, interleaved, scaling), c.requireInt("intermediate_size"), moe,
                ModelConfig.Scales.NONE, Common.tied(c));
    }

    @Override
    public ModelConfig fromGguf(GgufConfig g) {
        int layers = Common.layers(g);
        int heads = Common.heads(g);
        int rope = g.requireInt("rope.dimension_count");
        // Converters since 2025 store MLA in its absorbed form: key/value_length describe the latent
        // (kv_lora + rope, kv_lora) and key/value_length_mla the per-head sizes.
        boolean absorbed = g.has("attention.key_length_mla");
        int qkDim = absorbed ? g.requireInt("attention.key_length_mla") : g.requireInt("attention.key_length");
        int valueDim = absorbed ? g.requireInt("attention.value_length_mla") : g.requireInt("attention.value_length");
        var mla = new MlaConfig(g.getInt("attention.q_lora_rank", 0), g.requireInt("attention.kv_lora_rank"), qkDim - rope, rope, valueDim);
        RopeConfig.Scaling scaling = Common.ropeScaling(g, true);
        double scale = 1 / Math.sqrt(qkDim);
        if (scaling instanceof RopeConfig.Yarn y && g.has("rope.scaling.yarn_log_multiplier")) {
            double m = Common.yarnMscale(y.factor(), g.getDouble("rope.scaling.yarn_log_multiplier", 0) * 10);
            scale *= m * m;
        }
        var attention = new AttentionConfig(heads, heads, qkDim, valueDim, QkNorm.NONE, false, false, false, 0, null, mla, scale);
        // LLAMA_EXPERT_GATING_FUNC_TYPE: 1 softmax, 2 sigmoid. The converter omits the key for
        // softmax models, so its absence means softmax (shared/README: mind such defaults).
        int gating = g.getInt("expert_gating_func", 1);
        boolean sigmoid = switch (gating) {
            case 1 -> false;
            case 2 -> true;
            default -> throw g.invalid("expert_gating_func", "unknown gating function " + gating);
        };
        var router = new RouterConfig(sigmoid ? Scoring.SIGMOID : Scoring.SOFTMAX, sigmoid, g.getInt("expert_group_count", 1),
                g.getInt("expert_group_used_count", 1), sigmoid ? GroupScore.TOP2_SUM : GroupScore.MAX,
                g.getBool("expert_weights_norm", false), (float) g.getDouble("expert_weights_scale", 1), false);
        int expertFfn = g.requireInt("expert_feed_forward_length");
        int shared = g.getInt("expert_shared_count", 0);
        var moe = new MoeConfig(g.requireInt("expert_count"), g.requireInt("expert_used_count"), expertFfn, shared,
                shared * expertFfn, false, Common.leadingDense(g, layers), router, new MoeConfig.SiluGlu(), false);
        return new ModelConfig(sigmoid ? "deepseek_v3" : "deepseek_v2", Common.hidden(g), layers, Common.vocabulary(g),
                Common.context(g), Common.epsilon(g), attention,
                new RopeConfig(g.getDouble("rope.freq_base", 10000), rope, true, scaling), g.requireInt("feed_forward_length"),
                moe, ModelConfig.Scales.NONE, false);
    }
}
