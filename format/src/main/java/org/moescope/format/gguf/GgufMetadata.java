package org.moescope.format.gguf;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

import org.moescope.format.FormatException;

/**
 * The key-value metadata of a GGUF file, in file order. Getters convert between numeric types
 * where no information is lost and fail with the key named where a value has the wrong type.
 */
public final class GgufMetadata {
    private final Path file;
    private final Map<String, GgufValue> values;

    public GgufMetadata(Path file, Map<String, GgufValue> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public Map<String, GgufValue> asMap() { return values; }

    public Set<String> keys() { return values.keySet(); }

    public boolean contains(String key) { return values.containsKey(key); }

    public Optional<GgufValue> get(String key) { return Optional.ofNullable(values.get(key)); }

    public Optional<String> getString(String key) {
        GgufValue v = values.get(key);
        if (v == null) return Optional.empty();
        if (v.value() instanceof String s) return Optional.of(s);
        throw wrongType(key, v, "a string");
    }

    public String requireString(String key) {
        return getString(key).orElseThrow(() -> missing(key));
    }

    public OptionalLong getLong(String key) {
        GgufValue v = values.get(key);
        if (v == null) return OptionalLong.empty();
        return switch (v.value()) {
            case Long l -> OptionalLong.of(l);
            case Boolean b -> OptionalLong.of(b ? 1 : 0);
            case Float f when f == Math.rint(f) -> OptionalLong.of(f.longValue());
            case Double d when d == Math.rint(d) -> OptionalLong.of(d.longValue());
            default -> throw wrongType(key, v, "an integer");
        };
    }

    public long requireLong(String key) {
        return getLong(key).orElseThrow(() -> missing(key));
    }

    public int getInt(String key, int fallback) {
        OptionalLong v = getLong(key);
        if (v.isEmpty()) return fallback;
        long l = v.getAsLong();
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new FormatException(file, "metadata '" + key + "' = " + l + " is out of range");
        }
        return (int) l;
    }

    public OptionalDouble getDouble(String key) {
        GgufValue v = values.get(key);
        if (v == null) return OptionalDouble.empty();
        return switch (v.value()) {
            case Float f -> OptionalDouble.of(f);
            case Double d -> OptionalDouble.of(d);
            case Long l -> OptionalDouble.of(l);
            default -> throw wrongType(key, v, "a number");
        };
    }

    public double getDouble(String key, double fallback) {
        return getDouble(key).orElse(fallback);
    }

    public Optional<Boolean> getBool(String key) {
        GgufValue v = values.get(key);
        if (v == null) return Optional.empty();
        return switch (v.value()) {
            case Boolean b -> Optional.of(b);
            case Long l -> Optional.of(l != 0);
            default -> throw wrongType(key, v, "a bool");
        };
    }

    public Optional<GgufArray> getArray(String key) {
        GgufValue v = values.get(key);
        if (v == null) return Optional.empty();
        if (v.value() instanceof GgufArray a) return Optional.of(a);
        throw wrongType(key, v, "an array");
    }

    public GgufArray requireArray(String key) {
        return getArray(key).orElseThrow(() -> missing(key));
    }

    /** A string array as String[] (e.g. {@code tokenizer.ggml.tokens}). */
    public Optional<String[]> getStrings(String key) {
        return getArray(key).map(a -> {
            if (a.values() instanceof String[] s) return s;
            throw wrongType(key, values.get(key), "an array of strings");
        });
    }

    /** An integer array (any integer element type) widened to int[]. */
    public Optional<int[]> getInts(String key) {
        return getArray(key).map(a -> {
            if (a.values() instanceof int[] i && a.elementType() == GgufValueType.INT32) return i;
            int[] out = new int[a.length()];
            for (int i = 0; i < out.length; i++) {
                long l;
                try {
                    l = a.getLong(i);
                } catch (IllegalStateException e) {
                    throw wrongType(key, values.get(key), "an array of integers");
                }
                out[i] = Math.toIntExact(l);
            }
            return out;
        });
    }

    /** A numeric array widened to float[] (e.g. {@code tokenizer.ggml.scores}). */
    public Optional<float[]> getFloats(String key) {
        return getArray(key).map(a -> {
            if (a.values() instanceof float[] f) return f;
            float[] out = new float[a.length()];
            for (int i = 0; i < out.length; i++) out[i] = (float) a.getDouble(i);
            return out;
        });
    }

    private FormatException missing(String key) {
        return new FormatException(file, "metadata key '" + key + "' is missing");
    }

    private FormatException wrongType(String key, GgufValue v, String expected) {
        return new FormatException(file, "metadata '" + key + "' is " + v.type() + ", expected " + expected);
    }
}
