package org.moescope.model.edit;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.moescope.format.TensorData;
import org.moescope.format.gguf.GgufFile;
import org.moescope.format.gguf.GgufValue;
import org.moescope.format.gguf.GgufWriter;

/**
 * Writes a smaller GGUF without some routed experts: their router rows, selection biases and
 * expert slices are removed and {@code <arch>.expert_count} is lowered, so the file loads in
 * moescope and llama.cpp like any model with fewer experts. llama.cpp needs the same expert count
 * in every layer, so every MoE layer keeps the same number.
 *
 * <p>Dropping experts this way is exactly disabling them (router logit −∞) for softmax and sigmoid
 * routers without groups: the remaining experts' scores and the selection are unchanged.
 */
public final class ExpertPruner {
    private static final Pattern EXPERT_TENSOR = Pattern.compile("blk\\.(\\d+)\\.(ffn_(gate|up|down|gate_up)_exps\\.(weight|bias)|ffn_gate_inp\\.(weight|bias)|exp_probs_b\\.bias)");

    private ExpertPruner() {}

    /**
     * @param keep keep[layer][expert]: which experts stay; layers without experts may be null.
     *             Every MoE layer must keep the same number.
     */
    public static void prune(Path source, boolean[][] keep, Path target) {
        try (GgufFile in = GgufFile.open(source)) {
            String arch = in.architecture();
            int experts = Math.toIntExact(in.metadata().requireLong(arch + ".expert_count"));
            int used = Math.toIntExact(in.metadata().requireLong(arch + ".expert_used_count"));
            int kept = -1;
            for (boolean[] layer : keep) {
                if (layer == null) continue;
                if (layer.length != experts) throw new IllegalArgumentException("keep mask has " + layer.length + " experts, the model " + experts);
                int n = 0;
                for (boolean b : layer) if (b) n++;
                if (kept >= 0 && n != kept) throw new IllegalArgumentException("every layer must keep the same number of experts (llama.cpp needs one expert_count)");
                kept = n;
            }
            if (kept <= 0) throw new IllegalArgumentException("nothing would be left: keep at least one expert per layer");
            GgufWriter out = new GgufWriter();
            out.putAll(in.metadata());
            out.put(arch + ".expert_count", GgufValue.ofUint32(kept));
            out.put(arch + ".expert_used_count", GgufValue.ofUint32(Math.min(used, kept)));
            out.put("general.name", GgufValue.of(in.metadata().getString("general.name").orElse("model") + " pruned to " + kept + " experts"));
            if (in.metadata().contains(arch + ".expert_group_count")) {
                // groups are contiguous ranges of experts; after removals they no longer are
                out.put(arch + ".expert_group_count", GgufValue.ofUint32(1));
                out.put(arch + ".expert_group_used_count", GgufValue.ofUint32(1));
            }
            out.remove("split.count").remove("split.no").remove("split.tensors.count");
            for (TensorData t : in.tensors()) {
                Matcher m = EXPERT_TENSOR.matcher(t.name());
                if (!m.matches()) {
                    out.addTensor(t.name(), t.type(), t.shape(), t.data());
                    continue;
                }
                int layer = Integer.parseInt(m.group(1));
                boolean[] mask = layer < keep.length ? keep[layer] : null;
                if (mask == null) {
                    out.addTensor(t.name(), t.type(), t.shape(), t.data());
                    continue;
                }
                out.addTensor(t.name(), t.type(), shrunk(t.shape(), kept), channel -> {
                    long slice = t.byteSize() / t.shape()[0];
                    for (int e = 0; e < mask.length; e++) {
                        if (mask[e]) GgufWriter.writeSegment(channel, t.data().asSlice(e * slice, slice));
                    }
                });
            }
            out.write(target);
        }
    }

    private static long[] shrunk(long[] shape, int kept) {
        long[] s = shape.clone();
        s[0] = kept;
        return s;
    }

    /** A mask keeping every expert but {@code drop[layer]} in each layer. */
    public static boolean[][] dropping(int layers, int experts, int[][] drop) {
        boolean[][] keep = new boolean[layers][];
        for (int l = 0; l < layers; l++) {
            if (drop[l] == null) continue;
            keep[l] = new boolean[experts];
            Arrays.fill(keep[l], true);
            for (int e : drop[l]) keep[l][e] = false;
        }
        return keep;
    }
}
