package org.moescope.model.forward;

import org.moescope.tensor.ArrayAlignment;

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
        if (keyWidth <= 0) throw new IllegalArgumentException("key width " + keyWidth + ": every layer caches keys");
        Math.multiplyExact(capacity, Math.max(keyWidth, valueWidth)); // the full cache must be addressable
        // room for the first positions only: the arrays grow as positions are stored (a context of
        // thousands would otherwise hold a gigabyte from the first token, and the young-generation
        // collections of the first passes would copy it over and over)
        int rows = Math.min(capacity, INITIAL_ROWS);
        if (precision == Precision.F32) {
            keys32 = new float[layers][AT + rows * keyWidth];
            values32 = new float[layers][AT + rows * valueWidth];
            keys16 = values16 = null;
        } else {
            keys16 = new short[layers][rows * keyWidth];
            values16 = new short[layers][rows * valueWidth];
            keys32 = values32 = null;
        }
    }

    /**
     * Where position 0 of a float32 cache starts in its arrays (position p's row at AT + p·width):
     * on a cache line ({@link ArrayAlignment#FIRST_LINE}), so that attention's 16-float loads of keys and values,
     * whose rows are whole lines wide for heads of 64 or 128, each read one line rather than two.
     */
    static final int AT = ArrayAlignment.FIRST_LINE;

    /** Positions a layer's arrays hold at first; they double (up to the capacity) when a store needs more. */
    static final int INITIAL_ROWS = 64;

    public int capacity() { return capacity; }

    public Precision precision() { return precision; }

    int keyWidth() { return keyWidth; }

    int valueWidth() { return valueWidth; }

    /** Bytes held now (the arrays grow with the positions stored), for reporting memory use. */
    public long bytes() {
        long sum = 0;
        int layers = precision == Precision.F32 ? keys32.length : keys16.length;
        for (int l = 0; l < layers; l++) {
            sum += precision == Precision.F32 ? 4L * (keys32[l].length + values32[l].length) : 2L * (keys16[l].length + values16[l].length);
        }
        return sum;
    }

    /** Grows layer {@code layer}'s arrays to hold positions [0, rows) at least. */
    private void ensureRows(int layer, int rows) {
        int held = precision == Precision.F32 ? (keys32[layer].length - AT) / keyWidth : keys16[layer].length / keyWidth;
        if (rows <= held) return;
        int grown = (int) Math.min(capacity, Math.max(rows, 2L * held));
        if (precision == Precision.F32) {
            keys32[layer] = java.util.Arrays.copyOf(keys32[layer], AT + grown * keyWidth);
            values32[layer] = java.util.Arrays.copyOf(values32[layer], AT + grown * valueWidth);
        } else {
            keys16[layer] = java.util.Arrays.copyOf(keys16[layer], grown * keyWidth);
            values16[layer] = java.util.Arrays.copyOf(values16[layer], grown * valueWidth);
        }
    }

    /** Stores {@code count} rows of keys (and values, if {@code values} is not null) from position {@code position} on. */
    void store(int layer, int position, int count, float[] keys, int keyOffset, float[] values, int valueOffset) {
        if (position + count > capacity) throw new IllegalArgumentException("positions up to " + (position + count) + " past the cache's " + capacity);
        ensureRows(layer, position + count);
        int kn = count * keyWidth;
        int vn = count * valueWidth;
        if (precision == Precision.F32) {
            System.arraycopy(keys, keyOffset, keys32[layer], AT + position * keyWidth, kn);
            if (values != null) System.arraycopy(values, valueOffset, values32[layer], AT + position * valueWidth, vn);
        } else {
            short[] k = keys16[layer];
            for (int i = 0; i < kn; i++) k[position * keyWidth + i] = Float.floatToFloat16(keys[keyOffset + i]);
            if (values != null) {
                short[] v = values16[layer];
                for (int i = 0; i < vn; i++) v[position * valueWidth + i] = Float.floatToFloat16(values[valueOffset + i]);
            }
        }
    }

    /**
     * The float32 key array of a layer, position p's row at {@link #AT} + p·keyWidth, or null when the
     * cache holds float16 (then use {@link #loadKey}). It holds the positions stored so far (and may be
     * replaced by a larger one at the next store).
     */
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
