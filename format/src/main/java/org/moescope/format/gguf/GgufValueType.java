package org.moescope.format.gguf;

/** Metadata value types, ids as in GGUF's {@code gguf_type} (docs/gguf.md). */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4),
    BOOL(7, 1), STRING(8, -1), ARRAY(9, -1), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int size;

    GgufValueType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    public int id() { return id; }

    /** Encoded size in bytes, or -1 for the variable-length STRING and ARRAY. */
    public int size() { return size; }

    /** Smallest encoding of one value: used to reject counts that cannot fit in the file. */
    int minimumSize() {
        return switch (this) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> size;
        };
    }

    static GgufValueType ofId(long id) {
        for (GgufValueType t : values()) if (t.id == id) return t;
        return null;
    }
}
