package org.moescope.format.gguf;

import java.util.List;

/**
 * A metadata array. Elements are held in the narrowest Java array that holds them exactly:
 * {@code byte[]} for (U)INT8, {@code short[]} for (U)INT16, {@code int[]} for (U)INT32 (UINT32
 * read back through {@link #getLong}), {@code long[]} for (U)INT64, {@code float[]}, {@code
 * double[]}, {@code boolean[]}, {@code String[]}, and {@code List<GgufArray>} for nested arrays.
 */
public record GgufArray(GgufValueType elementType, Object values) {

    public int length() {
        return switch (values) {
            case byte[] a -> a.length;
            case short[] a -> a.length;
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case String[] a -> a.length;
            case List<?> a -> a.size();
            default -> throw new IllegalStateException("not an array: " + values.getClass());
        };
    }

    /** Element i as a long, honouring unsignedness; for integer and bool arrays. */
    public long getLong(int i) {
        return switch (values) {
            case byte[] a -> elementType == GgufValueType.UINT8 ? a[i] & 0xFF : a[i];
            case short[] a -> elementType == GgufValueType.UINT16 ? a[i] & 0xFFFF : a[i];
            case int[] a -> elementType == GgufValueType.UINT32 ? a[i] & 0xFFFFFFFFL : a[i];
            case long[] a -> a[i];
            case boolean[] a -> a[i] ? 1 : 0;
            default -> throw new IllegalStateException("array of " + elementType + " is not integral");
        };
    }

    public double getDouble(int i) {
        return switch (values) {
            case float[] a -> a[i];
            case double[] a -> a[i];
            default -> getLong(i);
        };
    }

    public String getString(int i) {
        if (values instanceof String[] a) return a[i];
        throw new IllegalStateException("array of " + elementType + " holds no strings");
    }

    @Override
    public String toString() {
        int n = length();
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < Math.min(n, 8); i++) {
            if (i > 0) sb.append(", ");
            sb.append(switch (values) {
                case String[] a -> '"' + a[i] + '"';
                case List<?> a -> a.get(i).toString();
                case float[] a -> Float.toString(a[i]);
                case double[] a -> Double.toString(a[i]);
                default -> Long.toString(getLong(i));
            });
        }
        if (n > 8) sb.append(", ... (").append(n).append(" ").append(elementType).append(")");
        return sb.append("]").toString();
    }
}
