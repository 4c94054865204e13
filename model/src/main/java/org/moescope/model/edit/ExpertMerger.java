package org.moescope.model.edit;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.moescope.format.TensorData;
import org.moescope.format.TensorType;
import org.moescope.format.gguf.GgufFile;
import org.moescope.format.gguf.GgufValue;
import org.moescope.format.gguf.GgufWriter;
import org.moescope.tensor.Blocks;

/**
 * Merging experts instead of dropping them (MC-SMoE, Li et al. 2024): each expert to remove is
 * averaged into the kept expert whose router row is most similar (cosine), weighted by how often
 * each is selected; then the file is pruned as {@link ExpertPruner} does. Expert tensors are
 * decoded, averaged and re-encoded in their type (F32, F16, BF16, Q8_0).
 */
public final class ExpertMerger {
    private static final Pattern EXPERTS = Pattern.compile("blk\\.(\\d+)\\.ffn_(gate|up|down)_exps\\.weight");
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ExpertMerger() {}

    /**
     * @param drop      per layer the experts to remove (null: none)
     * @param frequency per layer and expert how often it is selected (the averaging weights)
     */
    public static void merge(Path source, int[][] drop, double[][] frequency, Path target) {
        Path merged = target.resolveSibling(target.getFileName() + ".merging.gguf");
        try (GgufFile in = GgufFile.open(source)) {
            Map<Integer, int[]> into = new HashMap<>();
            for (int l = 0; l < drop.length; l++) {
                if (drop[l] == null) continue;
                TensorData router = in.requireTensor("blk." + l + ".ffn_gate_inp.weight");
                into.put(l, targets(router, drop[l]));
            }
            GgufWriter out = new GgufWriter().putAll(in.metadata());
            for (TensorData t : in.tensors()) {
                Matcher m = EXPERTS.matcher(t.name());
                if (!m.matches() || !into.containsKey(Integer.parseInt(m.group(1)))) {
                    out.addTensor(t.name(), t.type(), t.shape(), t.data());
                    continue;
                }
                int layer = Integer.parseInt(m.group(1));
                out.addTensor(t.name(), t.type(), t.shape(), averaged(t, drop[layer], into.get(layer), frequency[layer]));
            }
            out.write(merged);
        }
        ExpertPruner.prune(merged, keepMask(drop, frequency), target);
        try {
            java.nio.file.Files.deleteIfExists(merged);
        } catch (java.io.IOException ignored) {
            // an intermediate file left behind is harmless
        }
    }

    private static boolean[][] keepMask(int[][] drop, double[][] frequency) {
        boolean[][] keep = new boolean[drop.length][];
        for (int l = 0; l < drop.length; l++) {
            if (drop[l] == null) continue;
            keep[l] = new boolean[frequency[l].length];
            java.util.Arrays.fill(keep[l], true);
            for (int e : drop[l]) keep[l][e] = false;
        }
        return keep;
    }

    /** For each dropped expert, the kept expert with the most similar router row. */
    private static int[] targets(TensorData router, int[] dropped) {
        int experts = (int) router.rows(), h = (int) router.columns();
        float[] w = new float[experts * h];
        for (int e = 0; e < experts; e++) Blocks.dequantize(router.type(), router.data(), e * router.type().bytesFor(h), w, e * h, h);
        java.util.Set<Integer> gone = new java.util.HashSet<>();
        for (int d : dropped) gone.add(d);
        int[] target = new int[dropped.length];
        for (int i = 0; i < dropped.length; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < experts; k++) {
                if (gone.contains(k)) continue;
                double dot = 0, a = 0, b = 0;
                for (int c = 0; c < h; c++) {
                    dot += (double) w[dropped[i] * h + c] * w[k * h + c];
                    a += (double) w[dropped[i] * h + c] * w[dropped[i] * h + c];
                    b += (double) w[k * h + c] * w[k * h + c];
                }
                double cos = dot / Math.sqrt(a * b + 1e-30);
                if (cos > best) {
                    best = cos;
                    target[i] = k;
                }
            }
        }
        return target;
    }

    /** The 3-D expert tensor with each target replaced by the frequency-weighted mean of itself and what merges into it. */
    private static MemorySegment averaged(TensorData t, int[] dropped, int[] targets, double[] frequency) {
        long[] s = t.shape();
        int rows = (int) s[1], cols = (int) s[2];
        long sliceBytes = t.byteSize() / s[0];
        MemorySegment copy = MemorySegment.ofArray(new byte[Math.toIntExact(t.byteSize())]);
        MemorySegment.copy(t.data(), 0, copy, 0, t.byteSize());
        Map<Integer, java.util.List<Integer>> groups = new HashMap<>();
        for (int i = 0; i < dropped.length; i++) groups.computeIfAbsent(targets[i], k -> new java.util.ArrayList<>()).add(dropped[i]);
        float[] row = new float[cols], sum = new float[cols];
        for (var g : groups.entrySet()) {
            int keep = g.getKey();
            double total = frequency[keep] + 1e-9;
            for (int d : g.getValue()) total += frequency[d];
            for (int r = 0; r < rows; r++) {
                java.util.Arrays.fill(sum, 0f);
                for (int e : concat(keep, g.getValue())) {
                    long at = e * sliceBytes + r * t.type().bytesFor(cols);
                    Blocks.dequantize(t.type(), t.data(), at, row, 0, cols);
                    double weight = (e == keep ? frequency[keep] + 1e-9 : frequency[e]) / total;
                    for (int c = 0; c < cols; c++) sum[c] += (float) (weight * row[c]);
                }
                encode(t.type(), sum, copy, keep * sliceBytes + r * t.type().bytesFor(cols));
            }
        }
        return copy;
    }

    private static int[] concat(int first, java.util.List<Integer> rest) {
        int[] out = new int[rest.size() + 1];
        out[0] = first;
        for (int i = 0; i < rest.size(); i++) out[i + 1] = rest.get(i);
        return out;
    }

    /** Encodes a row of floats in the tensor's type (quantize_row_q8_0_ref for Q8_0). */
    static void encode(TensorType type, float[] x, MemorySegment out, long at) {
        switch (type) {
            case F32 -> MemorySegment.copy(x, 0, out, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at, x.length);
            case F16 -> { for (int i = 0; i < x.length; i++) out.set(U16, at + 2L * i, Float.floatToFloat16(x[i])); }
            case BF16 -> {
                for (int i = 0; i < x.length; i++) {
                    int bits = Float.floatToRawIntBits(x[i]);
                    out.set(U16, at + 2L * i, (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < x.length / 32; b++) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
                    float d = amax / 127f, id = d != 0 ? 1 / d : 0;
                    long block = at + 34L * b;
                    out.set(U16, block, Float.floatToFloat16(d));
                    for (int j = 0; j < 32; j++) out.set(ValueLayout.JAVA_BYTE, block + 2 + j, (byte) Math.round(x[b * 32 + j] * id));
                }
            }
            default -> throw new UnsupportedOperationException("merging " + type + " experts is not supported (F32, F16, BF16, Q8_0)");
        }
    }
}
