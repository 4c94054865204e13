package org.moescope.model.forward;

/**
 * Keys and values of every past position, per layer, in float32. For multi-head latent attention
 * only {@code keys} is used: one latent (normalised kv_a output and RoPE key) per position.
 */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final int keyWidth;
    private final int valueWidth;
    private final int capacity;

    KvCache(int layers, int capacity, int keyWidth, int valueWidth) {
        this.capacity = capacity;
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        keys = new float[layers][];
        values = new float[layers][];
        for (int l = 0; l < layers; l++) {
            keys[l] = new float[Math.multiplyExact(capacity, keyWidth)];
            values[l] = valueWidth == 0 ? new float[0] : new float[Math.multiplyExact(capacity, valueWidth)];
        }
    }

    public int capacity() { return capacity; }

    float[] keys(int layer) { return keys[layer]; }

    float[] values(int layer) { return values[layer]; }

    int keyWidth() { return keyWidth; }

    int valueWidth() { return valueWidth; }

    /** Bytes held, for reporting memory use. */
    public long bytes() { return 4L * capacity * (keyWidth + valueWidth) * keys.length; }
}
