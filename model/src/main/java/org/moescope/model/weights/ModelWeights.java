package org.moescope.model.weights;

import java.util.List;

import org.moescope.format.TensorData;

/**
 * Every weight of a model, named by its role, whatever file it came from. Matrices are
 * {@code [out, in]} (row-major, one output per row); a null field is a part the architecture does
 * not have. Tensors are views of mapped file memory, except where a layout had to be rearranged
 * (HF gpt-oss experts, HF MLA key up-projections), which are small heap copies.
 *
 * @param output the LM head; the token embedding itself when embeddings are tied
 */
public record ModelWeights(TensorData tokenEmbedding, TensorData outputNorm, TensorData output, List<Layer> layers) {

    /** One decoder layer: pre-norm attention then pre-norm feed-forward (dense or MoE). */
    public record Layer(TensorData attentionNorm, Attention attention, TensorData ffnNorm, Mlp dense, Moe moe) {}

    /**
     * Attention projections. For grouped-query attention: q, k, v, output (+ biases, norms,
     * sinks). For multi-head latent attention: queryA/queryANorm/queryB (or q without a query
     * LoRA), keyValueA [kvLora + rope, hidden], keyValueANorm, and per head keyUp [kvLora, nope]
     * (absorbed into the query) and valueUp [valueDim, kvLora].
     */
    public record Attention(
            TensorData q, TensorData k, TensorData v, TensorData output,
            TensorData qBias, TensorData kBias, TensorData vBias, TensorData outputBias,
            TensorData qNorm, TensorData kNorm, TensorData sinks,
            TensorData queryA, TensorData queryANorm, TensorData queryB,
            TensorData keyValueA, TensorData keyValueANorm, List<TensorData> keyUp, List<TensorData> valueUp) {}

    /** A gated MLP: down(act(gate·x + gb) * (up·x + ub)) + db. */
    public record Mlp(TensorData gate, TensorData up, TensorData down, TensorData gateBias, TensorData upBias, TensorData downBias) {}

    /**
     * A MoE block: router [experts, hidden] (+ bias), the selection-only bias (DeepSeek-V3's
     * e_score_correction_bias), routed experts, and shared expert(s) with an optional sigmoid gate.
     */
    public record Moe(TensorData router, TensorData routerBias, TensorData selectionBias, List<Mlp> experts, Mlp shared,
                      TensorData sharedGate) {}
}
