package org.moescope.model.hook;

/**
 * Listeners on the forward pass. The model asks {@link #active} once per point and batch, so a
 * run without hooks pays one predictable branch per point and layer, nothing per value.
 * Listeners may change values in place (interventions); what they do not change flows on as is.
 */
public interface Hooks {
    /** No listeners anywhere. */
    Hooks NONE = new Hooks() {
        @Override public boolean active(HookPoint.Kind kind, int layer) { return false; }

        @Override public void at(HookPoint point, Batch batch, float[] values, int offset, int width) {}
    };

    /** Whether anything listens at this kind of point in this layer (-1 for model-level points). */
    boolean active(HookPoint.Kind kind, int layer);

    /**
     * Values at {@code point}: {@code batch.size()} rows of {@code width} floats starting at
     * {@code offset} (row t at {@code offset + t·width}). For {@code experts.{e}.out} the rows are
     * those of the batch's tokens routed to e, in {@code batch} order, listed by {@link #expertRows}.
     * For {@code final_norm} and {@code logits} the batch is the tokens whose logits are computed
     * (the last one during ordinary decoding).
     */
    void at(HookPoint point, Batch batch, float[] values, int offset, int width);

    /**
     * The routing decision of one layer: for each token of the batch, {@code k} expert ids and their
     * final weights (after normalisation and scaling), best first. Only called when
     * {@code active(ROUTER_TOPK, layer)}.
     */
    default void routed(int layer, Batch batch, int[] experts, float[] weights, int k) {}

    /** For {@code experts.{e}.out}: the batch rows (token indices) whose outputs are passed, in order. */
    default void expertRows(int layer, int expert, int[] rows, int count) {}

    /** Whether any token of any batch may have routing rules in this layer (checked once per layer and batch). */
    default boolean routes(int layer) { return false; }

    /** Rules for token t of the batch in this layer, or null for the architecture's own routing. */
    default RoutingRules routingRules(int layer, Batch batch, int t) { return null; }
}
