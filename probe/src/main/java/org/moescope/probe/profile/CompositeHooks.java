package org.moescope.probe.profile;

import java.util.List;

import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;
import org.moescope.model.hook.RoutingRules;

/**
 * Several hooks as one, in order: put interventions (profiles) first and captures after, so that
 * captures see the values the interventions produced. Routing rules come from the first hooks that
 * route a layer.
 */
public final class CompositeHooks implements Hooks {
    private final List<Hooks> hooks;

    private CompositeHooks(List<Hooks> hooks) { this.hooks = hooks; }

    public static Hooks of(Hooks... hooks) {
        List<Hooks> list = java.util.Arrays.stream(hooks).filter(h -> h != null && h != Hooks.NONE).toList();
        if (list.isEmpty()) return Hooks.NONE;
        if (list.size() == 1) return list.getFirst();
        return new CompositeHooks(list);
    }

    @Override
    public boolean active(HookPoint.Kind kind, int layer) {
        for (Hooks h : hooks) if (h.active(kind, layer)) return true;
        return false;
    }

    @Override
    public void at(HookPoint point, Batch batch, float[] values, int offset, int width) {
        for (Hooks h : hooks) if (h.active(point.kind(), point.layer())) h.at(point, batch, values, offset, width);
    }

    @Override
    public void routed(int layer, Batch batch, int[] experts, float[] weights, int k) {
        for (Hooks h : hooks) if (h.active(HookPoint.Kind.ROUTER_TOPK, layer)) h.routed(layer, batch, experts, weights, k);
    }

    @Override
    public void expertRows(int layer, int expert, int[] rows, int count) {
        for (Hooks h : hooks) if (h.active(HookPoint.Kind.EXPERT_OUT, layer)) h.expertRows(layer, expert, rows, count);
    }

    @Override
    public boolean routes(int layer) {
        for (Hooks h : hooks) if (h.routes(layer)) return true;
        return false;
    }

    @Override
    public RoutingRules routingRules(int layer, Batch batch, int t) {
        for (Hooks h : hooks) {
            if (!h.routes(layer)) continue;
            RoutingRules r = h.routingRules(layer, batch, t);
            if (r != null) return r;
        }
        return null;
    }
}
