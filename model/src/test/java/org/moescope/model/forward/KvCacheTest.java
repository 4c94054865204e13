package org.moescope.model.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KvCacheTest {
    /** The arrays start small and grow as positions are stored, keeping every position stored before. */
    @Test
    void growsWithThePositionsStoredAndKeepsThem() {
        for (KvCache.Precision precision : KvCache.Precision.values()) {
            int layers = 2, capacity = 1000, keyWidth = 3, valueWidth = 5;
            KvCache cache = new KvCache(layers, capacity, keyWidth, valueWidth, precision);
            long small = cache.bytes();
            assertThat(small).as("%s before any store", precision)
                    .isEqualTo(precision == KvCache.Precision.F32 ? 4L * layers * (2 * KvCache.AT + KvCache.INITIAL_ROWS * (keyWidth + valueWidth))
                            : 2L * layers * KvCache.INITIAL_ROWS * (keyWidth + valueWidth));
            // positions 0..999 in uneven batches, past every doubling
            for (int position = 0, step = 1; position < capacity; position += step, step = step % 37 + 1) {
                int count = Math.min(step, capacity - position);
                float[] k = new float[count * keyWidth], v = new float[count * valueWidth];
                for (int i = 0; i < k.length; i++) k[i] = position * keyWidth + i;
                for (int i = 0; i < v.length; i++) v[i] = -(position * valueWidth + i);
                cache.store(1, position, count, k, 0, v, 0);
            }
            assertThat(cache.bytes()).as("%s after the last position", precision).isGreaterThan(small);
            float[] key = new float[keyWidth], value = new float[valueWidth];
            for (int position = 0; position < capacity; position++) {
                if (precision == KvCache.Precision.F32) {
                    System.arraycopy(cache.keys(1), KvCache.AT + position * keyWidth, key, 0, keyWidth);
                    System.arraycopy(cache.values(1), KvCache.AT + position * valueWidth, value, 0, valueWidth);
                } else {
                    cache.loadKey(1, position, 0, keyWidth, key);
                    cache.loadValue(1, position, 0, valueWidth, value);
                }
                for (int i = 0; i < keyWidth; i++) {
                    assertThat(key[i]).as("%s key %d.%d", precision, position, i).isEqualTo(stored(precision, position * keyWidth + i));
                }
                for (int i = 0; i < valueWidth; i++) {
                    assertThat(value[i]).as("%s value %d.%d", precision, position, i).isEqualTo(stored(precision, -(position * valueWidth + i)));
                }
            }
            assertThatThrownBy(() -> cache.store(0, capacity, 1, new float[keyWidth], 0, new float[valueWidth], 0))
                    .hasMessageContaining("past the cache's " + capacity);
        }
    }

    private static float stored(KvCache.Precision precision, float x) {
        return precision == KvCache.Precision.F32 ? x : Float.float16ToFloat(Float.floatToFloat16(x));
    }
}
