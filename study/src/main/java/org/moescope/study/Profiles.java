package org.moescope.study;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.moescope.probe.profile.Profile;

/** Profiles the studies build: the same JSON a user would write, so reports can record them. */
public final class Profiles {
    static final ObjectMapper JSON = new ObjectMapper();

    private Profiles() {}

    /** (layer, expert) pairs, e.g. from a ranking. */
    public record LayerExpert(int layer, int expert) {}

    private static Map<Integer, List<Integer>> byLayer(List<LayerExpert> experts) {
        Map<Integer, List<Integer>> m = new TreeMap<>();
        for (LayerExpert le : experts) m.computeIfAbsent(le.layer(), k -> new java.util.ArrayList<>()).add(le.expert());
        return m;
    }

    /** experts.{kind}: disable or force. */
    public static Profile experts(String name, String kind, List<LayerExpert> experts) {
        ObjectNode root = JSON.createObjectNode().put("name", name);
        ArrayNode rules = root.putObject("experts").putArray(kind);
        byLayer(experts).forEach((l, es) -> {
            ObjectNode r = rules.addObject();
            r.putArray("layers").add(l);
            ArrayNode a = r.putArray("experts");
            es.forEach(a::add);
        });
        return Profile.of(root, null);
    }

    /** experts.scale with one factor. */
    public static Profile scale(String name, List<LayerExpert> experts, double factor) {
        ObjectNode root = JSON.createObjectNode().put("name", name);
        ArrayNode rules = root.putObject("experts").putArray("scale");
        byLayer(experts).forEach((l, es) -> {
            ObjectNode r = rules.addObject();
            r.putArray("layers").add(l);
            ArrayNode a = r.putArray("experts");
            es.forEach(a::add);
            r.put("factor", factor);
        });
        return Profile.of(root, null);
    }

    /** router.bias: value added to the logits of these experts. */
    public static Profile bias(String name, List<LayerExpert> down, List<LayerExpert> up, double value) {
        ObjectNode root = JSON.createObjectNode().put("name", name);
        ArrayNode rules = root.putObject("router").putArray("bias");
        for (var entry : List.of(Map.entry(down, -value), Map.entry(up, value))) {
            byLayer(entry.getKey()).forEach((l, es) -> {
                ObjectNode r = rules.addObject();
                r.putArray("layers").add(l);
                ArrayNode a = r.putArray("experts");
                es.forEach(a::add);
                r.put("value", entry.getValue());
            });
        }
        return Profile.of(root, null);
    }
}
