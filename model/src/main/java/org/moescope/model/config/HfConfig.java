package org.moescope.model.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.moescope.format.FormatException;

/**
 * A Hugging Face {@code config.json}, read with the key aliases that different transformers
 * versions use ({@code num_experts} / {@code num_local_experts} / {@code n_routed_experts},
 * {@code rope_theta} / {@code rope_parameters.rope_theta}, ...). Errors name the file and key.
 */
public final class HfConfig {
    private final Path file;
    private final JsonNode root;

    private HfConfig(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    public static HfConfig read(Path file) {
        try {
            JsonNode root = new ObjectMapper().readTree(file.toFile());
            if (root == null || !root.isObject()) throw new FormatException(file, "config is not a JSON object");
            return new HfConfig(file, root);
        } catch (IOException e) {
            throw new FormatException(file, "malformed JSON: " + e.getMessage(), e);
        }
    }

    public static HfConfig of(Path file, JsonNode root) { return new HfConfig(file, root); }

    public Path file() { return file; }

    public JsonNode root() { return root; }

    /** The first of {@code keys} present with a non-null value; dotted keys reach into objects. */
    public Optional<JsonNode> find(String... keys) {
        for (String key : keys) {
            JsonNode node = root;
            for (String part : key.split("\\.")) {
                node = node == null ? null : node.get(part);
            }
            if (node != null && !node.isNull()) return Optional.of(node);
        }
        return Optional.empty();
    }

    public boolean has(String... keys) { return find(keys).isPresent(); }

    public int requireInt(String... keys) {
        JsonNode n = find(keys).orElseThrow(() -> missing(keys));
        if (!n.canConvertToInt() || !n.isIntegralNumber()) throw wrong(keys[0], n, "an integer");
        return n.asInt();
    }

    public int getInt(int fallback, String... keys) {
        return find(keys).map(n -> {
            if (!n.isIntegralNumber()) throw wrong(keys[0], n, "an integer");
            return n.asInt();
        }).orElse(fallback);
    }

    public double getDouble(double fallback, String... keys) {
        return find(keys).map(n -> {
            if (!n.isNumber()) throw wrong(keys[0], n, "a number");
            return n.asDouble();
        }).orElse(fallback);
    }

    public double requireDouble(String... keys) {
        JsonNode n = find(keys).orElseThrow(() -> missing(keys));
        if (!n.isNumber()) throw wrong(keys[0], n, "a number");
        return n.asDouble();
    }

    public boolean getBool(boolean fallback, String... keys) {
        return find(keys).map(n -> {
            if (!n.isBoolean()) throw wrong(keys[0], n, "true or false");
            return n.asBoolean();
        }).orElse(fallback);
    }

    public Optional<String> getString(String... keys) {
        return find(keys).map(n -> {
            if (!n.isTextual()) throw wrong(keys[0], n, "a string");
            return n.asText();
        });
    }

    public String requireString(String... keys) {
        return getString(keys).orElseThrow(() -> missing(keys));
    }

    public FormatException missing(String... keys) {
        return new FormatException(file, "field '" + keys[0] + "' is missing"
                + (keys.length > 1 ? " (also looked for " + String.join(", ", java.util.Arrays.copyOfRange(keys, 1, keys.length)) + ")" : ""));
    }

    public FormatException wrong(String key, JsonNode value, String expected) {
        return new FormatException(file, "field '" + key + "' is " + value + ", expected " + expected);
    }

    public FormatException invalid(String key, String why) {
        return new FormatException(file, "field '" + key + "': " + why);
    }
}
