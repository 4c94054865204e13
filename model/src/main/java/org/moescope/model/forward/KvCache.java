package org.moescope.model.forward;

/**
 * Keys and values of every past position, per layer, in float32 or float16 (half the memory, a
 * rounding of 2⁻¹¹ relative per value). For multi-head latent attention only the key side is used:
 * one latent (normalised kv_a output and RoPE key) per position.
 */
public final class KvCache {
    public enum Precision { F32, F16 }

    private final Precision precision;
    private final float[][] keys32, values32;
    private final short[][] keys16, values16;
    private final int keyWidth;
    private final int valueWidth;
    private final int capacity;

    KvCache(int layers, int capacity, int keyWidth, int valueWidth, Precision precision) {
        this.capacity = capacity;
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        this.precision = precision;
        int k = Math.multiplyExact(capacity, keyWidth);
        int v = Math.multiplyExact(capacity, valueWidth);
        if (precision == Precision.F32) {
            keys32 = new float[layers][k];
            values32 = new float[layers][v];
            keys16 = values16 = null;
        } else {
            keys16 = new short[layers][k];
            values16 = new short[layers][v];
            keys32 = values32 = null;
        }
    }

    public int capacity() { return capacity; }

    public Precision precision() { return precision; }

    int keyWidth() { return keyWidth; }

    int valueWidth() { return valueWidth; }

    /** Bytes held, for reporting memory use. */
    public long bytes() {
        int layers = precision == Precision.F32 ? keys32.length : keys16.length;
        return (precision == Precision.F32 ? 4L : 2L) * capacity * (keyWidth + valueWidth) * layers;
    }

    /** Stores {@code count} rows of keys (and values, if {@code values} is not null) from position {@code position} on. */
    void store(int layer, int position, int count, float[] keys, int keyOffset, float[] values, int valueOffset) {
        int kn = count * keyWidth;
        int vn = count * valueWidth;
        if (precision == Precision.F32) {
            System.arraycopy(keys, keyOffset, keys32[layer], position * keyWidth, kn);
            if (values != null) System.arraycopy(values, valueOffset, values32[layer], position * valueWidth, vn);
        } else {
            short[] k = keys16[layer];
            for (int i = 0; i < kn; i++) k[position * keyWidth + i] = Float.floatToFloat16(keys[keyOffset + i]);
            if (values != null) {
                short[] v = values16[layer];
                for (int i = 0; i < vn; i++) v[position * valueWidth + i] = Float.floatToFloat16(values[valueOffset + i]);
            }
        }
    }

    /** The float32 key array of a layer, or null when the cache holds float16 (then use {@link #loadKey}). */
    float[] keys(int layer) { return keys32 == null ? null : keys32[layer]; }

    float[] values(int layer) { return values32 == null ? null : values32[layer]; }

    /** Copies {@code length} key values of position {@code position} starting at {@code from} into {@code out}. */
    void loadKey(int layer, int position, int from, int length, float[] out) {
        short[] k = keys16[layer];
        int base = position * keyWidth + from;
        for (int i = 0; i < length; i++) out[i] = Float.float16ToFloat(k[base + i]);
    }

    void loadValue(int layer, int position, int from, int length, float[] out) {
        short[] v = values16[layer];
        int base = position * valueWidth + from;
        for (int i = 0; i < length; i++) out[i] = Float.float16ToFloat(v[base + i]);
    }
}
