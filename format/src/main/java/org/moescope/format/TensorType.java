package org.moescope.format;

import java.util.Optional;

/**
 * Element and block types of stored tensors: every ggml type (ids as in ggml.h's {@code enum
 * ggml_type}) and the safetensors dtypes that have no ggml id. A type stores {@code blockSize}
 * elements in {@code blockBytes} bytes; a row's length must be a multiple of the block size.
 *
 * <p>Block sizes follow ggml-common.h: QK4_0 = QK8_0 = QK4_NL = QK_MXFP4 = 32, QK_K = 256.
 */
public enum TensorType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 2 + 16),
    Q4_1(3, 32, 2 + 2 + 16),
    Q5_0(6, 32, 2 + 4 + 16),
    Q5_1(7, 32, 2 + 2 + 4 + 16),
    Q8_0(8, 32, 2 + 32),
    Q8_1(9, 32, 4 + 32),
    Q2_K(10, 256, 16 + 64 + 2 + 2),
    Q3_K(11, 256, 32 + 64 + 12 + 2),
    Q4_K(12, 256, 2 + 2 + 12 + 128),
    Q5_K(13, 256, 2 + 2 + 12 + 32 + 128),
    Q6_K(14, 256, 128 + 64 + 16 + 2),
    Q8_K(15, 256, 4 + 256 + 32),
    IQ2_XXS(16, 256, 2 + 64),
    IQ2_XS(17, 256, 2 + 64 + 8),
    IQ3_XXS(18, 256, 2 + 96),
    IQ1_S(19, 256, 2 + 32 + 16),
    IQ4_NL(20, 32, 2 + 16),
    IQ3_S(21, 256, 2 + 64 + 32 + 8 + 4),
    IQ2_S(22, 256, 2 + 64 + 16),
    IQ4_XS(23, 256, 2 + 2 + 4 + 128),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 32 + 16 + 8),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 2 + 4 * 13),
    TQ2_0(35, 256, 2 + 64),
    MXFP4(39, 32, 1 + 16),
    /** safetensors only: float8 e4m3fn (DeepSeek-V3 release weights, with 128x128 block scales). */
    F8_E4M3(-1, 1, 1),
    F8_E5M2(-1, 1, 1),
    U8(-1, 1, 1),
    U16(-1, 1, 2),
    U32(-1, 1, 4),
    U64(-1, 1, 8),
    BOOL(-1, 1, 1);

    private static final TensorType[] BY_GGML_ID = new TensorType[64];
    static {
        for (TensorType t : values()) if (t.ggmlId >= 0) BY_GGML_ID[t.ggmlId] = t;
    }

    private final int ggmlId;
    private final int blockSize;
    private final int blockBytes;

    TensorType(int ggmlId, int blockSize, int blockBytes) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The ggml type id, or -1 for a type that ggml does not have. */
    public int ggmlId() { return ggmlId; }

    public int blockSize() { return blockSize; }

    public int blockBytes() { return blockBytes; }

    public boolean isQuantized() { return blockSize > 1; }

    public static Optional<TensorType> ofGgmlId(long id) {
        return id >= 0 && id < BY_GGML_ID.length ? Optional.ofNullable(BY_GGML_ID[(int) id]) : Optional.empty();
    }

    /** safetensors dtype names ("F32", "BF16", "F8_E4M3", "I64", ...). */
    public static Optional<TensorType> ofSafetensorsName(String dtype) {
        return switch (dtype) {
            case "F64" -> Optional.of(F64);
            case "F32" -> Optional.of(F32);
            case "F16" -> Optional.of(F16);
            case "BF16" -> Optional.of(BF16);
            case "F8_E4M3" -> Optional.of(F8_E4M3);
            case "F8_E5M2" -> Optional.of(F8_E5M2);
            case "I64" -> Optional.of(I64);
            case "I32" -> Optional.of(I32);
            case "I16" -> Optional.of(I16);
            case "I8" -> Optional.of(I8);
            case "U8" -> Optional.of(U8);
            case "U16" -> Optional.of(U16);
            case "U32" -> Optional.of(U32);
            case "U64" -> Optional.of(U64);
            case "BOOL" -> Optional.of(BOOL);
            default -> Optional.empty();
        };
    }

    public String safetensorsName() { return name(); }

    /**
     * Bytes taken by {@code elements} elements, or -1 when the count is not a whole number of
     * blocks or the size overflows.
     */
    public long bytesFor(long elements) {
        if (elements < 0 || elements % blockSize != 0) return -1;
        long blocks = elements / blockSize;
        if (blocks > Long.MAX_VALUE / blockBytes) return -1;
        return blocks * blockBytes;
    }
}
