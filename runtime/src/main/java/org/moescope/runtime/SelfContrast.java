package org.moescope.runtime;

import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;
import org.moescope.model.hook.RoutingRules;

/**
 * Self-contrast decoding for MoE models (SCMoE, Shi et al. 2024, "Unchosen Experts Can Contribute
 * Too"): the next-token logits are (1 + α)·logits(normal routing) − α·logits(weak routing), the
 * weak routing selecting only {@code weakTopK} experts per token. The weak pass runs in its own
 * session over the same tokens.
 */
public final class SelfContrast {
    private SelfContrast() {}

    /** Hooks that run {@code base}'s interventions but select only {@code weakTopK} experts in every MoE layer. */
    public static Hooks weak(Hooks base, int weakTopK) {
        if (weakTopK < 1) throw new IllegalArgumentException("weak top-k must be at least 1");
        return new Hooks() {
            @Override public boolean active(HookPoint.Kind kind, int layer) { return base.active(kind, layer); }

            @Override public void at(HookPoint point, Batch batch, float[] values, int offset, int width) {
                base.at(point, batch, values, offset, width);
            }

            @Override public void routed(int layer, Batch batch, int[] experts, float[] weights, int k) {
                base.routed(layer, batch, experts, weights, k);
            }

            @Override public void expertRows(int layer, int expert, int[] rows, int count) { base.expertRows(layer, expert, rows, count); }

            @Override public boolean routes(int layer) { return true; }

            @Override public RoutingRules routingRules(int layer, Batch batch, int t) {
                RoutingRules r = base.routes(layer) ? base.routingRules(layer, batch, t) : null;
                if (r == null) r = RoutingRules.NONE;
                return new RoutingRules(r.bias(), r.disabled(), r.forced(), r.scale(), weakTopK, 0, r.renormalize());
            }
        };
    }

    /** logits ← (1 + α)·strong − α·weak, in place in {@code strong}. */
    public static void combine(float[] strong, float[] weak, float alpha, int n) {
        for (int i = 0; i < n; i++) strong[i] = (1 + alpha) * strong[i] - alpha * weak[i];
    }
}
