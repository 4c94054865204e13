package org.moescope.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;

/**
 * Records, for every token run through the model, the experts each MoE layer chose and their final
 * weights (best first). Wraps other hooks, which keep working.
 */
public final class RoutingRecorder implements Hooks {
    /** One token's routing: experts[layer] and weights[layer], null for layers without experts. */
    public record TokenRouting(int position, int token, int[][] experts, float[][] weights) {}

    private final Hooks inner;
    private final int layers;
    private final List<TokenRouting> tokens = new ArrayList<>();
    private int firstOfBatch = -1;

    public RoutingRecorder(Hooks inner, int layers) {
        this.inner = inner == null ? Hooks.NONE : inner;
        this.layers = layers;
    }

    @Override
    public boolean active(HookPoint.Kind kind, int layer) {
        return kind == HookPoint.Kind.ROUTER_TOPK || inner.active(kind, layer);
    }

    @Override
    public void at(HookPoint point, Batch batch, float[] values, int offset, int width) {
        if (inner.active(point.kind(), point.layer())) inner.at(point, batch, values, offset, width);
    }

    @Override
    public void routed(int layer, Batch batch, int[] experts, float[] weights, int k) {
        if (inner.active(HookPoint.Kind.ROUTER_TOPK, layer)) inner.routed(layer, batch, experts, weights, k);
        if (firstOfBatch < 0 || tokens.isEmpty() || tokens.get(firstOfBatch).position() != batch.startPosition()) {
            firstOfBatch = tokens.size();
            for (int t = 0; t < batch.size(); t++) {
                tokens.add(new TokenRouting(batch.position(t), batch.token(t), new int[layers][], new float[layers][]));
            }
        }
        for (int t = 0; t < batch.size(); t++) {
            TokenRouting r = tokens.get(firstOfBatch + t);
            int n = 0;
            while (n < k && experts[t * k + n] >= 0) n++;
            r.experts()[layer] = Arrays.copyOfRange(experts, t * k, t * k + n);
            r.weights()[layer] = Arrays.copyOfRange(weights, t * k, t * k + n);
        }
    }

    @Override
    public void expertRows(int layer, int expert, int[] rows, int count) { inner.expertRows(layer, expert, rows, count); }

    @Override
    public boolean routes(int layer) { return inner.routes(layer); }

    @Override
    public org.moescope.model.hook.RoutingRules routingRules(int layer, Batch batch, int t) { return inner.routingRules(layer, batch, t); }

    /** Every token recorded so far, in order. */
    public List<TokenRouting> tokens() { return tokens; }

    /** The routing of the token at {@code position}, if recorded. */
    public TokenRouting at(int position) {
        for (int i = tokens.size() - 1; i >= 0; i--) if (tokens.get(i).position() == position) return tokens.get(i);
        return null;
    }
}
