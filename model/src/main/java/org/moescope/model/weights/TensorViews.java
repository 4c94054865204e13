package org.moescope.model.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import org.moescope.format.TensorData;
import org.moescope.format.TensorType;

/** Views into stored tensors (no copies) and the few rearrangements some layouts need (copies). */
public final class TensorViews {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorViews() {}

    /** Element {@code index} of a 3-D tensor {@code [n, rows, cols]} as a 2-D {@code [rows, cols]} view. */
    public static TensorData slice(TensorData t, int index, String name) {
        long[] s = t.shape();
        if (s.length != 3) throw new IllegalArgumentException(t.name() + " is not 3-D");
        long rowBytes = t.type().bytesFor(s[2]);
        long bytes = rowBytes * s[1];
        return new TensorData(name, t.type(), new long[] {s[1], s[2]}, t.data().asSlice(index * bytes, bytes));
    }

    /** Element {@code index} of a 2-D tensor {@code [n, cols]} as a 1-D {@code [cols]} view (e.g. one expert's bias). */
    public static TensorData row(TensorData t, int index, String name) {
        long cols = t.columns();
        long rowBytes = t.type().bytesFor(cols);
        return new TensorData(name, t.type(), new long[] {cols}, t.data().asSlice(index * rowBytes, rowBytes));
    }

    /** Rows {@code [from, from + count)} of a 2-D tensor. */
    public static TensorData rows(TensorData t, long from, long count, String name) {
        long cols = t.columns();
        long rowBytes = t.type().bytesFor(cols);
        return new TensorData(name, t.type(), new long[] {count, cols}, t.data().asSlice(from * rowBytes, count * rowBytes));
    }

    /** Every element of an F32, F16 or BF16 tensor as float (the formats of HF checkpoints). */
    public static float[] toFloats(TensorData t) {
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(t.name() + " is too large to copy");
        float[] out = new float[(int) n];
        MemorySegment d = t.data();
        switch (t.type()) {
            case F32 -> MemorySegment.copy(d, F32, 0, out, 0, out.length);
            case F16 -> { for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(d.get(U16, 2L * i)); }
            case BF16 -> { for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat((d.get(U16, 2L * i) & 0xFFFF) << 16); }
            default -> throw new UnsupportedOperationException("tensor '" + t.name() + "': rearranging " + t.type() + " data is not supported");
        }
        return out;
    }

    /** A heap F32 tensor. */
    public static TensorData ofFloats(String name, float[] values, long... shape) {
        return new TensorData(name, TensorType.F32, shape, MemorySegment.ofArray(values));
    }
}
