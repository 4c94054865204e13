package org.moescope.model.forward;

import java.util.Arrays;

import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.HookPoint.Kind;
import org.moescope.model.hook.Hooks;
import org.moescope.model.weights.ModelWeights;

/**
 * A mixture-of-experts feed-forward block: router logits, per-token selection ({@link Router}),
 * the selected experts computed for exactly the tokens routed to them (grouped by expert, so one
 * pass over an expert's weights serves all its tokens), weighted sum, plus shared experts (gated
 * by sigmoid(w·x) in Qwen2-MoE).
 */
final class MoeBlock {
    private final int layer;
    private final int hidden;
    private final int experts;
    private final Linear router;
    private final Router routing;
    private final Mlp[] expertMlps;
    private final Mlp shared;
    private final Linear sharedGate;

    MoeBlock(int layer, ModelConfig config, ModelWeights.Moe w, Numerics numerics) {
        MoeConfig moe = config.moe();
        this.layer = layer;
        this.hidden = config.hiddenSize();
        this.experts = moe.experts();
        this.router = new Linear(w.router(), w.routerBias(), numerics);
        this.routing = new Router(moe, w.selectionBias() == null ? null : Dequantize.all(w.selectionBias()));
        this.expertMlps = w.experts().stream().map(e -> new Mlp(e, moe.activation(), numerics)).toArray(Mlp[]::new);
        this.shared = w.shared() == null ? null : new Mlp(w.shared(), moe.activation(), numerics);
        this.sharedGate = w.sharedGate() == null ? null : Linear.of(w.sharedGate(), numerics);
    }

    int experts() { return experts; }

    int maxSelected() { return routing.maxSelected(); }

    int sharedWidth() { return shared == null ? 0 : shared.width(); }

    int expertWidth() { return expertMlps[0].width(); }

    void forward(State s, Batch batch, float[] in, float[] out, Hooks hooks) {
        int n = batch.size();
        float[] logits = s.routerLogits;
        router.apply(in, logits, n);
        if (hooks.active(Kind.ROUTER_LOGITS, layer)) hooks.at(HookPoint.block(layer, Kind.ROUTER_LOGITS), batch, logits, 0, experts);

        int stride = routing.maxSelected();
        boolean rules = hooks.routes(layer);
        for (int t = 0; t < n; t++) {
            s.selectedCount[t] = routing.route(logits, t * experts, rules ? hooks.routingRules(layer, batch, t) : null,
                    s.selected, s.selectedWeights, t * stride);
        }
        if (hooks.active(Kind.ROUTER_TOPK, layer)) reportTopK(s, batch, hooks, stride);

        Arrays.fill(out, 0, n * hidden, 0f);
        boolean expertHook = hooks.active(Kind.EXPERT_OUT, layer);
        for (int e = 0; e < experts; e++) {
            int m = 0;
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < s.selectedCount[t]; i++) {
                    if (s.selected[t * stride + i] == e) {
                        s.expertRows[m] = t;
                        s.expertRowWeights[m] = s.selectedWeights[t * stride + i];
                        System.arraycopy(in, t * hidden, s.expertIn, m * hidden, hidden);
                        m++;
                    }
                }
            }
            if (m == 0) continue;
            expertMlps[e].forward(s.expertIn, s.expertOut, m, s.expertGate, s.expertUp);
            if (expertHook) {
                hooks.expertRows(layer, e, s.expertRows, m);
                hooks.at(HookPoint.expert(layer, e), batch, s.expertOut, 0, hidden);
            }
            for (int r = 0; r < m; r++) {
                int to = s.expertRows[r] * hidden;
                float weight = s.expertRowWeights[r];
                for (int i = 0; i < hidden; i++) out[to + i] += weight * s.expertOut[r * hidden + i];
            }
        }
        if (shared != null) {
            shared.forward(in, s.sharedOut, n, s.sharedGateBuffer, s.sharedUpBuffer);
            if (sharedGate != null) {
                sharedGate.apply(in, s.sharedGateLogit, n);
                for (int t = 0; t < n; t++) {
                    float g = (float) (1 / (1 + Math.exp(-s.sharedGateLogit[t])));
                    for (int i = 0; i < hidden; i++) s.sharedOut[t * hidden + i] *= g;
                }
            }
            if (hooks.active(Kind.SHARED_EXPERT_OUT, layer)) {
                hooks.at(HookPoint.block(layer, Kind.SHARED_EXPERT_OUT), batch, s.sharedOut, 0, hidden);
            }
            for (int i = 0; i < n * hidden; i++) out[i] += s.sharedOut[i];
        }
    }

    private void reportTopK(State s, Batch batch, Hooks hooks, int stride) {
        int k = 0;
        for (int t = 0; t < batch.size(); t++) k = Math.max(k, s.selectedCount[t]);
        int[] ids = new int[batch.size() * k];
        float[] weights = new float[batch.size() * k];
        Arrays.fill(ids, -1);
        for (int t = 0; t < batch.size(); t++) {
            System.arraycopy(s.selected, t * stride, ids, t * k, s.selectedCount[t]);
            System.arraycopy(s.selectedWeights, t * stride, weights, t * k, s.selectedCount[t]);
        }
        hooks.routed(layer, batch, ids, weights, k);
    }
}
