package org.moescope.probe.profile;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.moescope.model.config.ModelConfig;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;
import org.moescope.model.hook.RoutingRules;
import org.moescope.probe.vector.SteeringVectors;

/**
 * A profile bound to one model: validated against its layers, experts and hidden size (errors name
 * the JSON path), steering vectors loaded, and applied through the forward pass's hook points.
 * Routing rules for a token are combined from the rules whose scope matches it and cached per
 * combination, so the token loop allocates nothing once warm. Thread-safe.
 */
public final class ProfileHooks implements Hooks {
    private final Profile profile;
    private final int layers;
    private final int experts;
    private final List<List<Rule>> routing;              // per layer
    private final List<List<Steer>> steering;            // per layer
    private final boolean[][] steerActive;               // [kind][layer]
    private final List<Map<Long, RoutingRules>> cache;   // per layer: rules by bitmask of matching rule indices

    private sealed interface Rule permits Disable, Force, Scale, Bias, TopK, TopP, Renormalize {
        Profile.Scope scope();
    }

    private record Disable(int[] experts, Profile.Scope scope) implements Rule {}

    private record Force(int[] experts, Profile.Scope scope) implements Rule {}

    private record Scale(int[] experts, float factor, Profile.Scope scope) implements Rule {}

    private record Bias(int[] experts, float value, Profile.Scope scope) implements Rule {}

    private record TopK(int k, Profile.Scope scope) implements Rule {}

    private record TopP(double p, Profile.Scope scope) implements Rule {}

    private record Renormalize(boolean on, Profile.Scope scope) implements Rule {}

    private record Steer(HookPoint.Kind kind, Profile.SteerMode mode, float[] vector, float[] unit, float scale, Profile.Scope scope) {}

    public ProfileHooks(Profile profile, ModelConfig config) {
        this.profile = profile;
        this.layers = config.layerCount();
        this.experts = config.isMoe() ? config.moe().experts() : 0;
        routing = new ArrayList<>();
        steering = new ArrayList<>();
        cache = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            routing.add(new ArrayList<>());
            steering.add(new ArrayList<>());
            cache.add(new java.util.concurrent.ConcurrentHashMap<>());
        }
        for (var r : profile.disable()) for (int l : moeLayers(r.layers(), r.path(), config)) routing.get(l).add(new Disable(experts(r.experts(), r.path()), r.scope()));
        for (var r : profile.force()) for (int l : moeLayers(r.layers(), r.path(), config)) routing.get(l).add(new Force(experts(r.experts(), r.path()), r.scope()));
        for (var r : profile.scale()) for (int l : moeLayers(r.layers(), r.path(), config)) {
            routing.get(l).add(new Scale(experts(r.experts(), r.path()), (float) r.factor(), r.scope()));
        }
        Profile.Router router = profile.router();
        for (var b : router.bias()) for (int l : moeLayers(b.layers(), b.path(), config)) {
            routing.get(l).add(new Bias(experts(b.experts(), b.path()), (float) b.value(), b.scope()));
        }
        if (router.topK() != null) {
            if (router.topK() > experts) throw new ProfileException("router.top_k", "is " + router.topK() + " but the model has " + experts + " experts");
            for (int l = 0; l < layers; l++) if (config.isMoeLayer(l)) routing.get(l).add(new TopK(router.topK(), router.scope()));
        }
        for (var e : router.topKPerLayer().entrySet()) {
            String path = "router.top_k_per_layer." + e.getKey();
            checkMoeLayer(e.getKey(), path, config);
            if (e.getValue() > experts) throw new ProfileException(path, "is " + e.getValue() + " but the model has " + experts + " experts");
            routing.get(e.getKey()).removeIf(r -> r instanceof TopK);
            routing.get(e.getKey()).add(new TopK(e.getValue(), router.scope()));
        }
        if (router.topP() != null) for (int l = 0; l < layers; l++) if (config.isMoeLayer(l)) routing.get(l).add(new TopP(router.topP(), router.scope()));
        if (router.renormalize() != null) {
            for (int l = 0; l < layers; l++) if (config.isMoeLayer(l)) routing.get(l).add(new Renormalize(router.renormalize(), router.scope()));
        }
        for (int l = 0; l < layers; l++) {
            if (routing.get(l).size() > 63) throw new ProfileException("", "more than 63 routing rules apply to layer " + l);
        }
        steerActive = new boolean[HookPoint.Kind.values().length][layers];
        for (var s : profile.steer()) {
            HookPoint.Kind kind = HookPoint.Kind.ofSuffix(s.point());
            SteeringVectors.Vectors vectors;
            try {
                vectors = SteeringVectors.read(s.vector(), profile.baseDirectory());
            } catch (RuntimeException e) {
                throw new ProfileException(s.path() + ".vector", e.getMessage());
            }
            List<Integer> ls = s.layers().all() ? range(layers) : s.layers().list();
            for (int i = 0; i < ls.size(); i++) {
                int l = ls.get(i);
                String where = s.path() + ".layers" + (s.layers().all() ? "" : "[" + i + "]");
                if (l >= layers) throw new ProfileException(where, "layer " + l + " does not exist (the model has " + layers + ")");
                if (kind == HookPoint.Kind.MOE_OUT && !config.isMoeLayer(l)) throw new ProfileException(where, "layer " + l + " has no MoE block for moe.out");
                float[] v = vectors.forLayer(l);
                if (v == null) {
                    if (s.layers().all()) continue; // a per-layer file need not cover every layer under "all"
                    throw new ProfileException(s.path() + ".vector", "the vector file has no vector for layer " + l);
                }
                if (v.length != config.hiddenSize()) {
                    throw new ProfileException(s.path() + ".vector", "vector has " + v.length + " values but the model's hidden size is " + config.hiddenSize());
                }
                double norm = 0;
                for (float x : v) norm += (double) x * x;
                norm = Math.sqrt(norm);
                float[] unit = new float[v.length];
                for (int k = 0; k < v.length; k++) unit[k] = norm == 0 ? 0 : (float) (v[k] / norm);
                steering.get(l).add(new Steer(kind, s.mode(), v, unit, (float) s.scale(), s.scope()));
                steerActive[kind.ordinal()][l] = true;
            }
        }
    }

    public Profile profile() { return profile; }

    private static List<Integer> range(int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(i);
        return out;
    }

    private List<Integer> moeLayers(Profile.Layers selection, String path, ModelConfig config) {
        List<Integer> out = new ArrayList<>();
        if (selection.all()) {
            for (int l = 0; l < layers; l++) if (config.isMoeLayer(l)) out.add(l);
            return out;
        }
        for (int i = 0; i < selection.list().size(); i++) {
            int l = selection.list().get(i);
            checkMoeLayer(l, path + ".layers[" + i + "]", config);
            out.add(l);
        }
        return out;
    }

    private void checkMoeLayer(int layer, String path, ModelConfig config) {
        if (layer < 0 || layer >= layers) throw new ProfileException(path, "layer " + layer + " does not exist (the model has " + layers + ")");
        if (!config.isMoeLayer(layer)) throw new ProfileException(path, "layer " + layer + " has no MoE block");
    }

    private int[] experts(List<Integer> list, String path) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            int e = list.get(i);
            if (e >= experts) throw new ProfileException(path + ".experts[" + i + "]", "expert " + e + " does not exist (the model has " + experts + ")");
            out[i] = e;
        }
        return out;
    }

    static boolean inScope(Profile.Scope scope, Batch batch, int t) {
        switch (scope.phase()) {
            case "prompt" -> { if (batch.phase() != Batch.Phase.PROMPT) return false; }
            case "generated" -> { if (batch.phase() != Batch.Phase.GENERATED) return false; }
            default -> { }
        }
        if (scope.positions() != null) {
            int p = batch.position(t);
            boolean any = false;
            for (int[] r : scope.positions()) any |= p >= r[0] && p < r[1];
            if (!any) return false;
        }
        return scope.tokens() == null || scope.tokens().contains(batch.token(t));
    }

    // ---------------------------------------------------------------- Hooks

    @Override
    public boolean active(HookPoint.Kind kind, int layer) {
        return layer >= 0 && layer < layers && steerActive[kind.ordinal()][layer];
    }

    @Override
    public void at(HookPoint point, Batch batch, float[] values, int offset, int width) {
        for (Steer s : steering.get(point.layer())) {
            if (s.kind() != point.kind()) continue;
            for (int t = 0; t < batch.size(); t++) {
                if (!inScope(s.scope(), batch, t)) continue;
                int o = offset + t * width;
                if (s.mode() == Profile.SteerMode.ADD) {
                    for (int i = 0; i < width; i++) values[o + i] += s.scale() * s.vector()[i];
                } else {
                    // h ← h − (h·u)u
                    double dot = 0;
                    for (int i = 0; i < width; i++) dot += (double) values[o + i] * s.unit()[i];
                    float d = (float) dot;
                    for (int i = 0; i < width; i++) values[o + i] -= d * s.unit()[i];
                }
            }
        }
    }

    @Override
    public boolean routes(int layer) { return layer < layers && !routing.get(layer).isEmpty(); }

    @Override
    public RoutingRules routingRules(int layer, Batch batch, int t) {
        List<Rule> rules = routing.get(layer);
        long mask = 0;
        for (int i = 0; i < rules.size(); i++) if (inScope(rules.get(i).scope(), batch, t)) mask |= 1L << i;
        if (mask == 0) return null;
        return cache.get(layer).computeIfAbsent(mask, m -> combine(rules, m));
    }

    private RoutingRules combine(List<Rule> rules, long mask) {
        float[] bias = null, scale = null;
        boolean[] disabled = null;
        List<Integer> forced = new ArrayList<>();
        int topK = 0;
        double topP = 0;
        Boolean renormalize = null;
        for (int i = 0; i < rules.size(); i++) {
            if ((mask & (1L << i)) == 0) continue;
            switch (rules.get(i)) {
                case Disable d -> {
                    if (disabled == null) disabled = new boolean[experts];
                    for (int e : d.experts()) disabled[e] = true;
                }
                case Force f -> { for (int e : f.experts()) if (!forced.contains(e)) forced.add(e); }
                case Scale s -> {
                    if (scale == null) {
                        scale = new float[experts];
                        java.util.Arrays.fill(scale, 1f);
                    }
                    for (int e : s.experts()) scale[e] *= s.factor();
                }
                case Bias b -> {
                    if (bias == null) bias = new float[experts];
                    for (int e : b.experts()) bias[e] += b.value();
                }
                case TopK k -> topK = k.k();
                case TopP p -> topP = p.p();
                case Renormalize r -> renormalize = r.on();
            }
        }
        int[] f = forced.isEmpty() ? null : forced.stream().mapToInt(Integer::intValue).toArray();
        return new RoutingRules(bias, disabled, f, scale, topK, topP, renormalize);
    }
}
