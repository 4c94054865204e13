package org.moescope.format.gguf;

import java.util.List;

/**
 * A typed metadata value. Scalars hold a boxed Java value ({@code Long} for every integer type,
 * unsigned ones widened; {@code Float}, {@code Double}, {@code Boolean}, {@code String}); an
 * {@link GgufValueType#ARRAY} holds a {@link GgufArray}.
 */
public record GgufValue(GgufValueType type, Object value) {

    public static GgufValue of(String s) { return new GgufValue(GgufValueType.STRING, s); }
    public static GgufValue ofUint32(long v) { return new GgufValue(GgufValueType.UINT32, v); }
    public static GgufValue ofInt32(long v) { return new GgufValue(GgufValueType.INT32, v); }
    public static GgufValue ofUint64(long v) { return new GgufValue(GgufValueType.UINT64, v); }
    public static GgufValue ofFloat32(float v) { return new GgufValue(GgufValueType.FLOAT32, v); }
    public static GgufValue ofBool(boolean v) { return new GgufValue(GgufValueType.BOOL, v); }
    public static GgufValue ofArray(GgufArray a) { return new GgufValue(GgufValueType.ARRAY, a); }

    public static GgufValue ofStrings(List<String> strings) {
        return ofArray(new GgufArray(GgufValueType.STRING, strings.toArray(String[]::new)));
    }

    public static GgufValue ofInt32s(int[] values) {
        return ofArray(new GgufArray(GgufValueType.INT32, values));
    }

    public static GgufValue ofFloat32s(float[] values) {
        return ofArray(new GgufArray(GgufValueType.FLOAT32, values));
    }

    @Override
    public String toString() {
        return value instanceof GgufArray a ? a.toString() : String.valueOf(value);
    }
}
