package org.moescope.format;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One stored tensor: its name, type, shape and bytes, mapped from the file without a copy.
 *
 * <p>{@code shape} is row-major, outermost first, as in PyTorch and safetensors: a weight matrix is
 * {@code [rows, columns]} and a fused expert tensor {@code [experts, rows, columns]}. GGUF stores
 * its dimensions innermost first ({@code ne[0]} = columns); the GGUF reader reverses them.
 */
public record TensorData(String name, TensorType type, long[] shape, MemorySegment data) {

    public TensorData {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    public long dim(int i) { return shape[i]; }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Length of the innermost dimension (a row). */
    public long columns() { return shape.length == 0 ? 1 : shape[shape.length - 1]; }

    /** Number of rows: all dimensions but the innermost, multiplied. */
    public long rows() { return shape.length == 0 ? 1 : elementCount() / columns(); }

    public long byteSize() { return data.byteSize(); }

    public String shapeString() { return Arrays.toString(shape); }

    @Override
    public String toString() {
        return "TensorData[" + name + ", " + type + ", " + shapeString() + ", " + byteSize() + " bytes]";
    }
}
