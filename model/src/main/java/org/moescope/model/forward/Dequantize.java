package org.moescope.model.forward;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import org.moescope.format.TensorData;

/** Rows of stored tensors as float (interim scalar decoding of F32, F16, BF16 and Q8_0). */
final class Dequantize {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Dequantize() {}

    static void row(TensorData t, long row, float[] out, int offset) {
        int n = Math.toIntExact(t.columns());
        MemorySegment d = t.data();
        long base = row * t.type().bytesFor(n);
        switch (t.type()) {
            case F32 -> MemorySegment.copy(d, F32, base, out, offset, n);
            case F16 -> { for (int i = 0; i < n; i++) out[offset + i] = Float.float16ToFloat(d.get(U16, base + 2L * i)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[offset + i] = Float.intBitsToFloat((d.get(U16, base + 2L * i) & 0xFFFF) << 16); }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long at = base + 34L * b;
                    float scale = Float.float16ToFloat(d.get(U16, at));
                    for (int i = 0; i < 32; i++) out[offset + b * 32 + i] = scale * d.get(ValueLayout.JAVA_BYTE, at + 2 + i);
                }
            }
            default -> throw new UnsupportedOperationException("tensor '" + t.name() + "': " + t.type() + " is not supported yet");
        }
    }

    static float[] all(TensorData t) {
        int cols = Math.toIntExact(t.columns());
        int rows = Math.toIntExact(t.rows());
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) row(t, r, out, r * cols);
        return out;
    }
}
