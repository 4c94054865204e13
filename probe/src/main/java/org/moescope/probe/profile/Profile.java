package org.moescope.probe.profile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An intervention and steering setup, as the JSON of PROFILES.md: parsed once, immutable, carrying
 * its original JSON so reports can record exactly what was applied. Unknown keys are errors; every
 * error names its JSON path.
 */
public record Profile(
        String name,
        String description,
        List<ExpertRule> disable,
        List<ExpertRule> force,
        List<ScaleRule> scale,
        Router router,
        List<SteerRule> steer,
        Contrast contrast,
        Scope scope,
        Path baseDirectory,
        JsonNode json) {

    static final ObjectMapper JSON = new ObjectMapper();

    /** {@code "layers": [1, 2]} or {@code "all"} (null list). */
    public record Layers(List<Integer> list) {
        public static final Layers ALL = new Layers(null);

        public boolean all() { return list == null; }

        public boolean contains(int layer) { return list == null || list.contains(layer); }
    }

    /** Where a rule applies: phase (prompt, generated, all), position ranges [from, to), token ids; null fields match all. */
    public record Scope(String phase, List<int[]> positions, List<Integer> tokens) {
        public static final Scope ALL = new Scope("all", null, null);
    }

    public record ExpertRule(Layers layers, List<Integer> experts, Scope scope, String path) {}

    public record ScaleRule(Layers layers, List<Integer> experts, double factor, Scope scope, String path) {}

    public record BiasRule(Layers layers, List<Integer> experts, double value, Scope scope, String path) {}

    public record Router(Integer topK, Map<Integer, Integer> topKPerLayer, Double topP, Boolean renormalize, List<BiasRule> bias, Scope scope) {
        static final Router NONE = new Router(null, Map.of(), null, null, List.of(), Scope.ALL);

        public boolean changesRouting() {
            return topK != null || !topKPerLayer.isEmpty() || topP != null || renormalize != null || !bias.isEmpty();
        }
    }

    public enum SteerMode { ADD, ABLATE }

    /** @param vector a file ("v.safetensors#name" or a control-vector ".gguf"), relative to the profile's folder */
    public record SteerRule(Layers layers, String point, SteerMode mode, String vector, double scale, Scope scope, String path) {}

    public record Contrast(int weakTopK, double alpha) {}

    /** The empty profile: changes nothing. */
    public static Profile empty() { return parse("{}", null); }

    public static Profile read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ProfileException("", "cannot read " + file + ": " + e.getMessage());
        }
        return parse(text, file.toAbsolutePath().getParent());
    }

    public static Profile parse(String json, Path baseDirectory) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ProfileException("", "malformed JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        }
        return of(root, baseDirectory);
    }

    public static Profile of(JsonNode root, Path baseDirectory) {
        if (root == null || !root.isObject()) throw new ProfileException("", "a profile must be a JSON object");
        keys(root, "", Set.of("name", "description", "experts", "router", "steer", "contrast", "scope"));
        Scope scope = root.has("scope") ? scope(root.get("scope"), "scope") : Scope.ALL;
        List<ExpertRule> disable = new ArrayList<>(), force = new ArrayList<>();
        List<ScaleRule> scale = new ArrayList<>();
        JsonNode experts = root.get("experts");
        if (experts != null) {
            object(experts, "experts");
            keys(experts, "experts", Set.of("disable", "force", "scale"));
            each(experts.get("disable"), "experts.disable", (n, p) -> {
                keys(n, p, Set.of("layers", "experts", "scope"));
                disable.add(new ExpertRule(layers(n.get("layers"), p + ".layers"), ints(n.get("experts"), p + ".experts"), ruleScope(n, p, scope), p));
            });
            each(experts.get("force"), "experts.force", (n, p) -> {
                keys(n, p, Set.of("layers", "experts", "scope"));
                force.add(new ExpertRule(layers(n.get("layers"), p + ".layers"), ints(n.get("experts"), p + ".experts"), ruleScope(n, p, scope), p));
            });
            each(experts.get("scale"), "experts.scale", (n, p) -> {
                keys(n, p, Set.of("layers", "experts", "factor", "scope"));
                scale.add(new ScaleRule(layers(n.get("layers"), p + ".layers"), ints(n.get("experts"), p + ".experts"),
                        number(n.get("factor"), p + ".factor"), ruleScope(n, p, scope), p));
            });
        }
        Router router = Router.NONE;
        JsonNode r = root.get("router");
        if (r != null) {
            object(r, "router");
            keys(r, "router", Set.of("top_k", "top_k_per_layer", "top_p", "renormalize", "bias", "scope"));
            Integer topK = r.has("top_k") ? positive(r.get("top_k"), "router.top_k") : null;
            Map<Integer, Integer> perLayer = new LinkedHashMap<>();
            if (r.has("top_k_per_layer")) {
                JsonNode m = r.get("top_k_per_layer");
                object(m, "router.top_k_per_layer");
                for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                    var e = it.next();
                    String p = "router.top_k_per_layer." + e.getKey();
                    int layer;
                    try {
                        layer = Integer.parseInt(e.getKey());
                    } catch (NumberFormatException x) {
                        throw new ProfileException(p, "keys must be layer numbers");
                    }
                    if (layer < 0) throw new ProfileException(p, "keys must be layer numbers (0 or more)");
                    perLayer.put(layer, positive(e.getValue(), p));
                }
            }
            Double topP = null;
            if (r.has("top_p")) {
                topP = number(r.get("top_p"), "router.top_p");
                if (!(topP > 0 && topP <= 1)) throw new ProfileException("router.top_p", "must be in (0, 1], not " + topP);
            }
            Boolean renormalize = null;
            if (r.has("renormalize")) {
                if (!r.get("renormalize").isBoolean()) throw new ProfileException("router.renormalize", "must be true or false");
                renormalize = r.get("renormalize").asBoolean();
            }
            Scope routerScope = r.has("scope") ? scope(r.get("scope"), "router.scope") : scope;
            List<BiasRule> bias = new ArrayList<>();
            each(r.get("bias"), "router.bias", (n, p) -> {
                keys(n, p, Set.of("layers", "experts", "value", "scope"));
                bias.add(new BiasRule(layers(n.get("layers"), p + ".layers"), ints(n.get("experts"), p + ".experts"),
                        number(n.get("value"), p + ".value"), ruleScope(n, p, routerScope), p));
            });
            router = new Router(topK, Map.copyOf(perLayer), topP, renormalize, List.copyOf(bias), routerScope);
        }
        List<SteerRule> steer = new ArrayList<>();
        each(root.get("steer"), "steer", (n, p) -> {
            keys(n, p, Set.of("layers", "point", "mode", "vector", "scale", "scope"));
            String point = n.has("point") ? text(n.get("point"), p + ".point") : "resid_post";
            if (!Set.of("resid_pre", "resid_mid", "resid_post", "attn.out", "moe.out").contains(point)) {
                throw new ProfileException(p + ".point", "must be resid_pre, resid_mid, resid_post, attn.out or moe.out, not '" + point + "'");
            }
            String mode = n.has("mode") ? text(n.get("mode"), p + ".mode") : "add";
            SteerMode m = switch (mode) {
                case "add" -> SteerMode.ADD;
                case "ablate" -> SteerMode.ABLATE;
                default -> throw new ProfileException(p + ".mode", "must be add or ablate, not '" + mode + "'");
            };
            if (!n.has("vector")) throw new ProfileException(p + ".vector", "is required");
            double s = n.has("scale") ? number(n.get("scale"), p + ".scale") : 1.0;
            steer.add(new SteerRule(layers(n.get("layers"), p + ".layers"), point, m, text(n.get("vector"), p + ".vector"), s,
                    ruleScope(n, p, scope), p));
        });
        Contrast contrast = null;
        JsonNode c = root.get("contrast");
        if (c != null) {
            object(c, "contrast");
            keys(c, "contrast", Set.of("weak_top_k", "alpha"));
            contrast = new Contrast(c.has("weak_top_k") ? positive(c.get("weak_top_k"), "contrast.weak_top_k") : 1,
                    c.has("alpha") ? number(c.get("alpha"), "contrast.alpha") : 0.5);
        }
        String name = root.has("name") ? text(root.get("name"), "name") : "";
        String description = root.has("description") ? text(root.get("description"), "description") : "";
        return new Profile(name, description, List.copyOf(disable), List.copyOf(force), List.copyOf(scale), router, List.copyOf(steer),
                contrast, scope, baseDirectory, root.deepCopy());
    }

    /** Whether the profile changes nothing at all (the empty profile's forward pass is the plain one, bit for bit). */
    public boolean isEmpty() {
        return disable.isEmpty() && force.isEmpty() && scale.isEmpty() && !router.changesRouting() && steer.isEmpty() && contrast == null;
    }

    /** The same profile with every MoE layer selecting {@code k} experts (self-contrast's weak pass). */
    public Profile withTopK(int k) {
        ObjectNode copy = json.deepCopy();
        ObjectNode r = copy.has("router") ? (ObjectNode) copy.get("router") : copy.putObject("router");
        r.put("top_k", k);
        r.remove("top_k_per_layer");
        r.remove("top_p");
        copy.remove("contrast");
        return of(copy, baseDirectory);
    }

    public String toJson() { return json.toString(); }

    // ---------------------------------------------------------------- JSON helpers

    private interface Each {
        void accept(JsonNode node, String path);
    }

    private static void each(JsonNode list, String path, Each each) {
        if (list == null) return;
        if (!list.isArray()) throw new ProfileException(path, "must be a list");
        for (int i = 0; i < list.size(); i++) {
            JsonNode n = list.get(i);
            String p = path + "[" + i + "]";
            if (!n.isObject()) throw new ProfileException(p, "must be an object");
            each.accept(n, p);
        }
    }

    private static void object(JsonNode n, String path) {
        if (!n.isObject()) throw new ProfileException(path, "must be an object");
    }

    private static void keys(JsonNode n, String path, Set<String> allowed) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new ProfileException(path.isEmpty() ? k : path + "." + k, "unknown key (expected one of " + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
            }
        }
    }

    private static Layers layers(JsonNode n, String path) {
        if (n == null) throw new ProfileException(path, "is required (a list of layer numbers, or \"all\")");
        if (n.isTextual() && n.asText().equals("all")) return Layers.ALL;
        return new Layers(ints(n, path));
    }

    private static List<Integer> ints(JsonNode n, String path) {
        if (n == null) throw new ProfileException(path, "is required");
        if (!n.isArray()) throw new ProfileException(path, "must be a list of integers");
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            JsonNode v = n.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) throw new ProfileException(path + "[" + i + "]", "must be a non-negative integer");
            out.add(v.asInt());
        }
        return List.copyOf(out);
    }

    private static int positive(JsonNode n, String path) {
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1) throw new ProfileException(path, "must be a positive integer");
        return n.asInt();
    }

    private static double number(JsonNode n, String path) {
        if (n == null) throw new ProfileException(path, "is required");
        if (!n.isNumber()) throw new ProfileException(path, "must be a number");
        double v = n.asDouble();
        if (!Double.isFinite(v)) throw new ProfileException(path, "must be finite");
        return v;
    }

    private static String text(JsonNode n, String path) {
        if (!n.isTextual()) throw new ProfileException(path, "must be a string");
        return n.asText();
    }

    private static Scope ruleScope(JsonNode rule, String path, Scope fallback) {
        return rule.has("scope") ? scope(rule.get("scope"), path + ".scope") : fallback;
    }

    private static Scope scope(JsonNode n, String path) {
        object(n, path);
        keys(n, path, Set.of("phase", "positions", "tokens"));
        String phase = "all";
        if (n.has("phase") && !n.get("phase").isNull()) {
            phase = text(n.get("phase"), path + ".phase");
            if (!Set.of("prompt", "generated", "all").contains(phase)) throw new ProfileException(path + ".phase", "must be prompt, generated or all");
        }
        List<int[]> positions = null;
        JsonNode p = n.get("positions");
        if (p != null && !p.isNull()) {
            if (!p.isArray()) throw new ProfileException(path + ".positions", "must be a list of [from, to) pairs");
            positions = new ArrayList<>();
            for (int i = 0; i < p.size(); i++) {
                JsonNode range = p.get(i);
                String rp = path + ".positions[" + i + "]";
                if (!range.isArray() || range.size() != 2 || !range.get(0).canConvertToInt() || !range.get(1).canConvertToInt()) {
                    throw new ProfileException(rp, "must be a pair [from, to)");
                }
                int from = range.get(0).asInt(), to = range.get(1).asInt();
                if (from < 0 || to < from) throw new ProfileException(rp, "must satisfy 0 ≤ from ≤ to");
                positions.add(new int[] {from, to});
            }
        }
        List<Integer> tokens = null;
        JsonNode t = n.get("tokens");
        if (t != null && !t.isNull()) tokens = ints(t, path + ".tokens");
        return new Scope(phase, positions, tokens);
    }
}
