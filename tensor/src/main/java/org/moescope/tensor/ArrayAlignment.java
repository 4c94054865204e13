package org.moescope.tensor;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * Where a float[]'s elements sit against 64-byte cache lines. A 512-bit load that straddles two
 * lines costs two; the decode kernels load their activations 16 floats at a time, so an activation
 * array at the wrong address slowed Q4_K by 15-23 % (JMH, the same data at aligned and unaligned
 * offsets). HotSpot places objects at multiples of {@code -XX:ObjectAlignmentInBytes} (8 by
 * default, so a new array's alignment is a matter of chance); at 64 every float[] has its elements
 * start at the same distance from a line, and {@link #FLOAT_PAD} says how far in the first aligned
 * element lies. {@code bin/moescope} passes the flag; without it {@link #FLOAT_PAD} is -1 and
 * nothing is realigned.
 */
public final class ArrayAlignment {
    private ArrayAlignment() {}

    /** The object alignment a JVM needs for {@link #FLOAT_PAD} to be known. */
    public static final int LINE = 64;

    /** Index of the first float of every float[] that starts a 64-byte line, or -1 where that varies by array. */
    public static final int FLOAT_PAD = floatPad(option("ObjectAlignmentInBytes"), option("UseCompactObjectHeaders"),
            option("UseCompressedClassPointers"));

    /** Floats per cache line: an offset that is a multiple of it keeps a line-aligned float on a line's start. */
    public static final int LINE_FLOATS = LINE / Float.BYTES;

    /** Where a buffer from {@link #buffer} has its first line: {@link #FLOAT_PAD}, or 0 where that is unknown. */
    public static final int FIRST_LINE = Math.max(0, FLOAT_PAD);

    /**
     * A thread's buffer with room for n floats from {@link #FIRST_LINE} and then {@code tail} more,
     * the tail starting a line too where the lines are known; grown (at least doubling) when needed.
     */
    static float[] buffer(ThreadLocal<float[]> buffers, int n, int tail) {
        float[] b = buffers.get();
        if (b.length < FIRST_LINE + n + tail) {
            int room = Math.max(n, 2 * (b.length - FIRST_LINE - tail));
            buffers.set(b = new float[FIRST_LINE + (room + LINE_FLOATS - 1) / LINE_FLOATS * LINE_FLOATS + tail]);
        }
        return b;
    }

    /**
     * The pad for these HotSpot option values (null where the option is unknown): a float[]'s elements
     * start after its header, 12 bytes with compact object headers, 16 with compressed class
     * pointers, 20 with neither.
     */
    static int floatPad(String objectAlignment, String compactHeaders, String compressedClassPointers) {
        if (objectAlignment == null || compressedClassPointers == null) return -1;
        int alignment;
        try {
            alignment = Integer.parseInt(objectAlignment);
        } catch (NumberFormatException e) {
            return -1;
        }
        if (alignment % LINE != 0) return -1;
        int base = Boolean.parseBoolean(compactHeaders) ? 12 : Boolean.parseBoolean(compressedClassPointers) ? 16 : 20;
        return (LINE - base) / Float.BYTES;
    }

    private static String option(String name) {
        try {
            return ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption(name).getValue();
        } catch (RuntimeException | LinkageError e) { // not HotSpot, or an option this JVM lacks
            return null;
        }
    }
}
