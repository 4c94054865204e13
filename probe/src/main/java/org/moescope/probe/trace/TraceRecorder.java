package org.moescope.probe.trace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;

/**
 * Records what a trace keeps of one sequence: every token's routing in every MoE layer (experts,
 * final weights, router logits of the chosen experts) and the requested dense captures
 * (e.g. {@code blocks.3.resid_post}). {@link #reset} between sequences.
 */
public final class TraceRecorder implements Hooks {
    /** One routing row: the expert at {@code rank} for the token at {@code position} in {@code layer}. */
    public record Route(int position, int layer, int rank, int expert, float weight, float logit) {}

    /** One captured vector. */
    public record Capture(int position, String point, float[] values) {}

    private final boolean routing;
    private final Set<HookPoint> dense;
    private final boolean[][] denseActive;
    private final List<Route> routes = new ArrayList<>();
    private final List<Capture> captures = new ArrayList<>();
    private final Map<Integer, float[]> logits = new HashMap<>(); // layer -> [batch, experts] of the current batch
    private final Map<Integer, Integer> logitWidth = new HashMap<>();

    public TraceRecorder(boolean routing, Set<HookPoint> dense, int layers) {
        this.routing = routing;
        this.dense = Set.copyOf(dense);
        this.denseActive = new boolean[HookPoint.Kind.values().length][layers + 1];
        for (HookPoint p : dense) denseActive[p.kind().ordinal()][p.layer() + 1] = true;
    }

    public void reset() {
        routes.clear();
        captures.clear();
        logits.clear();
    }

    public List<Route> routes() { return routes; }

    public List<Capture> captures() { return captures; }

    @Override
    public boolean active(HookPoint.Kind kind, int layer) {
        if (routing && (kind == HookPoint.Kind.ROUTER_LOGITS || kind == HookPoint.Kind.ROUTER_TOPK)) return true;
        return layer + 1 < denseActive[kind.ordinal()].length && denseActive[kind.ordinal()][layer + 1];
    }

    @Override
    public void at(HookPoint point, Batch batch, float[] values, int offset, int width) {
        if (point.kind() == HookPoint.Kind.ROUTER_LOGITS && routing) {
            logits.put(point.layer(), java.util.Arrays.copyOfRange(values, offset, offset + batch.size() * width));
            logitWidth.put(point.layer(), width);
        }
        HookPoint key = point.kind() == HookPoint.Kind.EXPERT_OUT ? point : new HookPoint(point.kind(), point.layer(), -1);
        if (!dense.contains(key) || point.kind() == HookPoint.Kind.EXPERT_OUT) return;
        for (int t = 0; t < batch.size(); t++) {
            captures.add(new Capture(batch.position(t), point.name(), java.util.Arrays.copyOfRange(values, offset + t * width, offset + (t + 1) * width)));
        }
    }

    @Override
    public void routed(int layer, Batch batch, int[] experts, float[] weights, int k) {
        if (!routing) return;
        float[] l = logits.get(layer);
        int width = logitWidth.getOrDefault(layer, 0);
        for (int t = 0; t < batch.size(); t++) {
            for (int r = 0; r < k; r++) {
                int e = experts[t * k + r];
                if (e < 0) break;
                float logit = l == null ? Float.NaN : l[t * width + e];
                routes.add(new Route(batch.position(t), layer, r, e, weights[t * k + r], logit));
            }
        }
    }
}
