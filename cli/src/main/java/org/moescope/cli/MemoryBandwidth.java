package org.moescope.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.moescope.tensor.Workers;

/**
 * Streaming-read memory bandwidth: the worker threads sum disjoint slices of a buffer far larger
 * than the caches, as decode reads weights. The figure against which decode speed is judged
 * (tokens/s × bytes of active weights per token ÷ this = fraction of the limit).
 */
final class MemoryBandwidth {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private MemoryBandwidth() {}

    /** Best of {@code repetitions} passes over {@code bytes}, in GB/s (10⁹ bytes). */
    static double measure(long bytes, int repetitions) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(bytes, 64);
            for (long i = 0; i < bytes; i += 4096) buffer.set(ValueLayout.JAVA_BYTE, i, (byte) 1); // fault pages in
            MemorySegment small = buffer.asSlice(0, 1 << 16);
            float warm = 0;
            for (int i = 0; i < 20_000; i++) warm += sum(small, 0, small.byteSize()); // compile sum() before timing
            Workers workers = Workers.shared();
            int parts = workers.threads();
            float[] sink = new float[parts];
            double best = 0;
            for (int r = 0; r < repetitions; r++) {
                long slice = bytes / parts / 512 * 512; // eight parts of whole 64-byte vectors
                long start = System.nanoTime();
                workers.parallelFor("memory read", parts, (from, to, worker) -> {
                    for (int p = from; p < to; p++) sink[p] += sum(buffer, p * slice, slice);
                });
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, slice * parts / seconds / 1e9);
            }
            if (Float.isNaN(warm + sink[0])) System.err.print(""); // keep the sums alive
            return best;
        }
    }

    /**
     * The floats of [from, from + length) added up as eight streams read side by side (eight parts,
     * a vector of each in turn): one stream per core keeps too few cache lines in flight to reach
     * the memory's rate (here 13.5–14.0 GB/s on one thread against 16.2 with eight, 25–27 on two
     * against 31.6), and decode reads eight at once too (Matrix's eightStreams).
     */
    private static float sum(MemorySegment m, long from, long length) {
        long step = F.vectorByteSize(), part = length / 8 / step * step;
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        for (long i = from, end = from + part; i < end; i += step) {
            a = a.add(FloatVector.fromMemorySegment(F, m, i, ByteOrder.LITTLE_ENDIAN)).add(FloatVector.fromMemorySegment(F, m, i + part, ByteOrder.LITTLE_ENDIAN));
            b = b.add(FloatVector.fromMemorySegment(F, m, i + 2 * part, ByteOrder.LITTLE_ENDIAN)).add(FloatVector.fromMemorySegment(F, m, i + 3 * part, ByteOrder.LITTLE_ENDIAN));
            c = c.add(FloatVector.fromMemorySegment(F, m, i + 4 * part, ByteOrder.LITTLE_ENDIAN)).add(FloatVector.fromMemorySegment(F, m, i + 5 * part, ByteOrder.LITTLE_ENDIAN));
            d = d.add(FloatVector.fromMemorySegment(F, m, i + 6 * part, ByteOrder.LITTLE_ENDIAN)).add(FloatVector.fromMemorySegment(F, m, i + 7 * part, ByteOrder.LITTLE_ENDIAN));
        }
        return a.add(b).add(c).add(d).reduceLanes(VectorOperators.ADD);
    }
}
