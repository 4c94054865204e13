package org.moescope.model.weights;

/**
 * Where an architecture's MoE tensors sit in HF checkpoints, relative to {@code model.layers.N.}.
 * Attention and norms are named the same way by every supported architecture.
 *
 * @param router       router weight
 * @param routerBias   router bias (gpt-oss), or null
 * @param experts      prefix of the expert tensors
 * @param layout       how expert weights are stored
 * @param gate         per-expert gate projection name (PER_EXPERT layout)
 * @param up           per-expert up projection name
 * @param down         per-expert down projection name
 */
public record HfNames(String router, String routerBias, String experts, ExpertLayout layout, String gate, String up, String down) {

    public enum ExpertLayout {
        /** experts.{e}.gate.weight [I,H], experts.{e}.up.weight [I,H], experts.{e}.down.weight [H,I] */
        PER_EXPERT,
        /** experts.gate_up_proj [E,2I,H] (gate rows first), experts.down_proj [E,H,I] (transformers 5 fused form) */
        FUSED,
        /** Granite: input_linear [E,2I,H] (gate rows first), output_linear [E,H,I] */
        GRANITE,
        /** gpt-oss: gate_up_proj [E,H,2I] with gate/up interleaved in the last dimension, down_proj [E,I,H]; both transposed */
        GPT_OSS
    }

    public static final HfNames STANDARD = new HfNames("mlp.gate.weight", null, "mlp.experts.", ExpertLayout.PER_EXPERT,
            "gate_proj", "up_proj", "down_proj");
    public static final HfNames MIXTRAL = new HfNames("block_sparse_moe.gate.weight", null, "block_sparse_moe.experts.",
            ExpertLayout.PER_EXPERT, "w1", "w3", "w2");
    public static final HfNames GRANITE = new HfNames("block_sparse_moe.router.layer.weight", null, "block_sparse_moe.",
            ExpertLayout.GRANITE, "input_linear", "input_linear", "output_linear");
    public static final HfNames GPT_OSS = new HfNames("mlp.router.weight", "mlp.router.bias", "mlp.experts.", ExpertLayout.GPT_OSS,
            "gate_up_proj", "gate_up_proj", "down_proj");
}
