package org.moescope.model.config;

import java.util.OptionalLong;

import org.moescope.format.FormatException;
import org.moescope.format.gguf.GgufMetadata;

/**
 * GGUF metadata read with the architecture prefix ({@code qwen3moe.block_count} is
 * {@code get("block_count")}), as llama.cpp's LLM_KV names them.
 */
public final class GgufConfig {
    private final GgufMetadata metadata;
    private final String prefix;
    private final java.nio.file.Path file;

    public GgufConfig(java.nio.file.Path file, GgufMetadata metadata) {
        this.file = file;
        this.metadata = metadata;
        this.prefix = metadata.requireString("general.architecture") + ".";
    }

    public GgufMetadata metadata() { return metadata; }

    public String architecture() { return prefix.substring(0, prefix.length() - 1); }

    public boolean has(String key) { return metadata.contains(prefix + key); }

    public int requireInt(String key) {
        OptionalLong v = metadata.getLong(prefix + key);
        if (v.isEmpty()) throw new FormatException(file, "metadata key '" + prefix + key + "' is missing");
        return Math.toIntExact(v.getAsLong());
    }

    public int getInt(String key, int fallback) { return metadata.getInt(prefix + key, fallback); }

    public double getDouble(String key, double fallback) { return metadata.getDouble(prefix + key, fallback); }

    public double requireDouble(String key) {
        return metadata.getDouble(prefix + key).orElseThrow(() ->
                new FormatException(file, "metadata key '" + prefix + key + "' is missing"));
    }

    public boolean getBool(String key, boolean fallback) { return metadata.getBool(prefix + key).orElse(fallback); }

    public java.util.Optional<String> getString(String key) { return metadata.getString(prefix + key); }

    /** A per-layer value: GGUF allows an array with one entry per layer where a scalar is usual. */
    public int[] perLayer(String key, int layers, int fallback) {
        int[] out = new int[layers];
        var array = metadata.getArray(prefix + key);
        if (array.isPresent()) {
            if (array.get().length() != layers) {
                throw new FormatException(file, "metadata '" + prefix + key + "' has " + array.get().length() + " entries for " + layers + " layers");
            }
            for (int i = 0; i < layers; i++) out[i] = Math.toIntExact(array.get().getLong(i));
        } else {
            java.util.Arrays.fill(out, getInt(key, fallback));
        }
        return out;
    }

    public FormatException invalid(String key, String why) {
        return new FormatException(file, "metadata '" + prefix + key + "': " + why);
    }
}
