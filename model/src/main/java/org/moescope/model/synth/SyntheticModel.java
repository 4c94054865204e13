package org.moescope.model.synth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

import org.moescope.format.TensorType;
import org.moescope.format.gguf.GgufArray;
import org.moescope.format.gguf.GgufValue;
import org.moescope.format.gguf.GgufValueType;
import org.moescope.format.gguf.GgufWriter;

/**
 * Writes a GGUF with the real shapes of a known MoE model, random weights and a valid byte-level
 * BPE vocabulary, loadable by moescope and llama.cpp: realistic-scale benchmarks without downloads.
 * Quantized tensors are random blocks with scales chosen so that weights come out near N(0, 0.02²),
 * the usual initialisation scale; their values are not meant to mean anything.
 */
public final class SyntheticModel {
    /** The weight types a synthetic file can have, as llama-quantize's file types. */
    public enum FileType { Q8_0, Q4_K_M, BF16 }

    private final Shape shape;
    private final FileType type;
    private final int layers;

    public SyntheticModel(Shape shape, FileType type, int layers) {
        if (layers < 1 || layers > shape.layers()) throw new IllegalArgumentException("layers must be in 1.." + shape.layers());
        this.shape = shape;
        this.type = type;
        this.layers = layers;
    }

    /** Bytes the file will hold (tensor data only). */
    public long estimatedBytes() {
        long total = 0;
        for (Tensor t : tensors()) total += t.type.bytesFor(t.elements());
        return total;
    }

    /** Writes the file; {@code progress} receives bytes written so far. */
    public void write(Path target, LongConsumer progress) {
        GgufWriter w = new GgufWriter();
        metadata(w);
        long[] written = {0};
        for (Tensor t : tensors()) {
            w.addTensor(t.name, t.type, t.shape, out -> {
                RandomBlocks.write(out, t.type, t.elements(), t.fill, t.name.hashCode());
                written[0] += t.type.bytesFor(t.elements());
                progress.accept(written[0]);
            });
        }
        w.write(target);
    }

    private record Tensor(String name, TensorType type, long[] shape, Fill fill) {
        long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    /** What values a tensor holds: small random weights, or ones (norm weights). */
    enum Fill { WEIGHTS, ONES }

    private void metadata(GgufWriter w) {
        String a = shape.ggufArchitecture();
        w.put("general.architecture", GgufValue.of(a));
        w.put("general.name", GgufValue.of("moescope synthetic " + shape.name() + " " + type));
        w.put("general.file_type", GgufValue.ofUint32(switch (type) { case Q8_0 -> 7; case Q4_K_M -> 15; case BF16 -> 32; }));
        w.put("general.quantization_version", GgufValue.ofUint32(2));
        w.put(a + ".block_count", GgufValue.ofUint32(layers));
        w.put(a + ".context_length", GgufValue.ofUint32(shape.context()));
        w.put(a + ".embedding_length", GgufValue.ofUint32(shape.hidden()));
        w.put(a + ".feed_forward_length", GgufValue.ofUint32(shape.denseFfn() > 0 ? shape.denseFfn() : shape.expertFfn()));
        w.put(a + ".attention.head_count", GgufValue.ofUint32(shape.heads()));
        w.put(a + ".attention.head_count_kv", GgufValue.ofUint32(shape.mla() ? 1 : shape.kvHeads()));
        w.put(a + ".rope.freq_base", GgufValue.ofFloat32((float) shape.ropeTheta()));
        w.put(a + ".attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(shape.epsilon()));
        w.put(a + ".expert_count", GgufValue.ofUint32(shape.experts()));
        w.put(a + ".expert_used_count", GgufValue.ofUint32(shape.expertsPerToken()));
        w.put(a + ".expert_feed_forward_length", GgufValue.ofUint32(shape.expertFfn()));
        w.put(a + ".vocab_size", GgufValue.ofUint32(shape.vocabulary()));
        if (shape.mla()) {
            w.put(a + ".attention.key_length", GgufValue.ofUint32(shape.kvLoraRank() + shape.ropeDim()));
            w.put(a + ".attention.value_length", GgufValue.ofUint32(shape.kvLoraRank()));
            w.put(a + ".attention.key_length_mla", GgufValue.ofUint32(shape.headDim()));
            w.put(a + ".attention.value_length_mla", GgufValue.ofUint32(shape.valueDim()));
            w.put(a + ".attention.kv_lora_rank", GgufValue.ofUint32(shape.kvLoraRank()));
            w.put(a + ".rope.dimension_count", GgufValue.ofUint32(shape.ropeDim()));
            w.put(a + ".leading_dense_block_count", GgufValue.ofUint32(shape.leadingDense()));
            w.put(a + ".expert_shared_count", GgufValue.ofUint32(shape.sharedExperts()));
            w.put(a + ".expert_weights_scale", GgufValue.ofFloat32(1f));
            w.put(a + ".expert_gating_func", GgufValue.ofUint32(1));
        } else {
            w.put(a + ".attention.key_length", GgufValue.ofUint32(shape.headDim()));
            w.put(a + ".attention.value_length", GgufValue.ofUint32(shape.headDim()));
            w.put(a + ".rope.dimension_count", GgufValue.ofUint32(shape.headDim()));
        }
        Vocabulary v = Vocabulary.build(shape.vocabulary(), 7);
        w.put("tokenizer.ggml.model", GgufValue.of("gpt2"));
        w.put("tokenizer.ggml.pre", GgufValue.of("gpt-2"));
        w.put("tokenizer.ggml.tokens", GgufValue.ofStrings(v.tokens()));
        w.put("tokenizer.ggml.token_type", GgufValue.ofInt32s(v.types()));
        w.put("tokenizer.ggml.merges", GgufValue.ofStrings(v.merges()));
        w.put("tokenizer.ggml.bos_token_id", GgufValue.ofUint32(v.endOfText()));
        w.put("tokenizer.ggml.eos_token_id", GgufValue.ofUint32(v.endOfText()));
        w.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(false));
    }

    private List<Tensor> tensors() {
        List<Tensor> out = new ArrayList<>();
        int h = shape.hidden();
        out.add(matrix("token_embd.weight", shape.vocabulary(), h, Role.EMBEDDING, 0));
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            out.add(vector(p + "attn_norm.weight", h));
            if (shape.mla()) {
                out.add(matrix(p + "attn_q.weight", shape.heads() * shape.headDim(), h, Role.OTHER, l));
                out.add(matrix(p + "attn_kv_a_mqa.weight", shape.kvLoraRank() + shape.ropeDim(), h, Role.OTHER, l));
                out.add(vector(p + "attn_kv_a_norm.weight", shape.kvLoraRank()));
                out.add(new Tensor(p + "attn_k_b.weight", weightType(shape.headDim() - shape.ropeDim(), Role.OTHER, l),
                        new long[] {shape.heads(), shape.kvLoraRank(), shape.headDim() - shape.ropeDim()}, Fill.WEIGHTS));
                out.add(new Tensor(p + "attn_v_b.weight", weightType(shape.kvLoraRank(), Role.VALUE, l),
                        new long[] {shape.heads(), shape.valueDim(), shape.kvLoraRank()}, Fill.WEIGHTS));
                out.add(matrix(p + "attn_output.weight", h, shape.heads() * shape.valueDim(), Role.OTHER, l));
            } else {
                out.add(matrix(p + "attn_q.weight", shape.heads() * shape.headDim(), h, Role.OTHER, l));
                out.add(matrix(p + "attn_k.weight", shape.kvHeads() * shape.headDim(), h, Role.OTHER, l));
                out.add(matrix(p + "attn_v.weight", shape.kvHeads() * shape.headDim(), h, Role.VALUE, l));
                out.add(matrix(p + "attn_output.weight", h, shape.heads() * shape.headDim(), Role.OTHER, l));
                switch (shape.qkNorm()) {
                    case "head" -> {
                        out.add(vector(p + "attn_q_norm.weight", shape.headDim()));
                        out.add(vector(p + "attn_k_norm.weight", shape.headDim()));
                    }
                    case "whole" -> {
                        out.add(vector(p + "attn_q_norm.weight", shape.heads() * shape.headDim()));
                        out.add(vector(p + "attn_k_norm.weight", shape.kvHeads() * shape.headDim()));
                    }
                    default -> {}
                }
            }
            out.add(vector(p + "ffn_norm.weight", h));
            if (l < shape.leadingDense()) {
                out.add(matrix(p + "ffn_gate.weight", shape.denseFfn(), h, Role.OTHER, l));
                out.add(matrix(p + "ffn_up.weight", shape.denseFfn(), h, Role.OTHER, l));
                out.add(matrix(p + "ffn_down.weight", h, shape.denseFfn(), Role.DOWN, l));
                continue;
            }
            out.add(new Tensor(p + "ffn_gate_inp.weight", TensorType.F32, new long[] {shape.experts(), h}, Fill.WEIGHTS));
            int e = shape.experts(), f = shape.expertFfn();
            out.add(new Tensor(p + "ffn_gate_exps.weight", weightType(h, Role.OTHER, l), new long[] {e, f, h}, Fill.WEIGHTS));
            out.add(new Tensor(p + "ffn_up_exps.weight", weightType(h, Role.OTHER, l), new long[] {e, f, h}, Fill.WEIGHTS));
            out.add(new Tensor(p + "ffn_down_exps.weight", weightType(f, Role.DOWN, l), new long[] {e, h, f}, Fill.WEIGHTS));
            if (shape.sharedExperts() > 0) {
                int s = shape.sharedExperts() * f;
                out.add(matrix(p + "ffn_gate_shexp.weight", s, h, Role.OTHER, l));
                out.add(matrix(p + "ffn_up_shexp.weight", s, h, Role.OTHER, l));
                out.add(matrix(p + "ffn_down_shexp.weight", h, s, Role.DOWN, l));
            }
        }
        out.add(vector("output_norm.weight", h));
        out.add(matrix("output.weight", shape.vocabulary(), h, Role.OUTPUT, 0));
        return out;
    }

    private enum Role { EMBEDDING, OUTPUT, VALUE, DOWN, OTHER }

    private Tensor matrix(String name, long rows, long cols, Role role, int layer) {
        return new Tensor(name, weightType(cols, role, layer), new long[] {rows, cols}, Fill.WEIGHTS);
    }

    private static Tensor vector(String name, long n) {
        return new Tensor(name, TensorType.F32, new long[] {n}, Fill.ONES);
    }

    /**
     * llama-quantize's choices (src/llama-quant.cpp): Q4_K_M gives attn_v and ffn_down Q6_K on
     * the layers use_more_bits picks, the output Q6_K, the rest Q4_K; rows that are not whole
     * 256-blocks fall back to Q5_0 (for Q4_K) and Q8_0 (for Q6_K).
     */
    private TensorType weightType(long columns, Role role, int layer) {
        return switch (type) {
            case BF16 -> TensorType.BF16;
            case Q8_0 -> TensorType.Q8_0;
            case Q4_K_M -> {
                boolean more = switch (role) {
                    case OUTPUT -> true;
                    case VALUE, DOWN -> useMoreBits(layer, layers);
                    default -> false;
                };
                TensorType t = more ? TensorType.Q6_K : TensorType.Q4_K;
                if (columns % 256 != 0) t = t == TensorType.Q6_K ? TensorType.Q8_0 : TensorType.Q5_0;
                yield t;
            }
        };
    }

    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /** Random blocks of a type, written in bounded chunks. */
    static final class RandomBlocks {
        private static final float STD = 0.02f;

        static void write(FileChannel out, TensorType type, long elements, Fill fill, long seed) throws IOException {
            long bytes = type.bytesFor(elements);
            int blockBytes = type.blockBytes();
            int perChunk = Math.max(1, (1 << 22) / blockBytes);
            ByteBuffer chunk = ByteBuffer.allocateDirect(perChunk * blockBytes).order(ByteOrder.LITTLE_ENDIAN);
            SplittableRandom random = new SplittableRandom(seed);
            long blocks = bytes / blockBytes;
            for (long done = 0; done < blocks; ) {
                int n = (int) Math.min(perChunk, blocks - done);
                chunk.clear();
                for (int b = 0; b < n; b++) block(chunk, type, fill, random);
                chunk.flip();
                while (chunk.hasRemaining()) out.write(chunk);
                done += n;
            }
        }

        private static void block(ByteBuffer out, TensorType type, Fill fill, SplittableRandom r) {
            switch (type) {
                case F32 -> out.putFloat(fill == Fill.ONES ? 1f : (float) r.nextGaussian() * STD);
                case BF16 -> out.putShort((short) (Float.floatToRawIntBits((float) r.nextGaussian() * STD) >>> 16));
                case F16 -> out.putShort(Float.floatToFloat16((float) r.nextGaussian() * STD));
                case Q8_0 -> { // d·q, q in [-127, 127]
                    out.putShort(Float.floatToFloat16(STD / 64));
                    randomBytes(out, 32, r);
                }
                case Q5_0 -> { // d·(q − 16), q 5 bits
                    out.putShort(Float.floatToFloat16(STD / 8));
                    randomBytes(out, 4 + 16, r);
                }
                case Q4_K -> { // d·sc·q − dmin·m with 6-bit sc, m and 4-bit q
                    out.putShort(Float.floatToFloat16(STD / 300));
                    out.putShort(Float.floatToFloat16(STD / 300));
                    randomBytes(out, 12 + 128, r);
                }
                case Q6_K -> { // d·sc·(q − 32) with int8 sc and 6-bit q
                    randomBytes(out, 128 + 64, r);
                    for (int i = 0; i < 16; i++) out.put((byte) (r.nextInt(64) - 32));
                    out.putShort(Float.floatToFloat16(STD / 600));
                }
                default -> throw new IllegalArgumentException("no random blocks for " + type);
            }
        }

        private static void randomBytes(ByteBuffer out, int n, SplittableRandom r) {
            for (int i = 0; i < n; i += 8) {
                long v = r.nextLong();
                for (int j = 0; j < 8 && i + j < n; j++) out.put((byte) (v >>> (8 * j)));
            }
        }
    }

    /** A byte-level BPE vocabulary: the 256 byte symbols, merged tokens, and one special end-of-text token. */
    record Vocabulary(List<String> tokens, int[] types, List<String> merges, int endOfText) {
        static Vocabulary build(int size, long seed) {
            List<String> tokens = new ArrayList<>(size);
            Map<String, Integer> index = new HashMap<>();
            for (int b = 0; b < 256; b++) {
                String s = String.valueOf(byteSymbol(b));
                index.put(s, tokens.size());
                tokens.add(s);
            }
            List<String> merges = new ArrayList<>();
            SplittableRandom random = new SplittableRandom(seed);
            // merge printable-ASCII-based tokens so the vocabulary looks like text pieces
            while (tokens.size() < size - 1) {
                String a = tokens.get(pick(random, tokens.size()));
                String b = tokens.get(32 + random.nextInt(95));
                String merged = a + b;
                if (merged.length() > 16 || index.containsKey(merged)) continue;
                index.put(merged, tokens.size());
                tokens.add(merged);
                merges.add(a + " " + b);
            }
            int eot = tokens.size();
            tokens.add("<|endoftext|>");
            int[] types = new int[tokens.size()];
            java.util.Arrays.fill(types, 1);
            types[eot] = 3;
            return new Vocabulary(tokens, types, merges, eot);
        }

        private static int pick(SplittableRandom r, int n) {
            // prefer recent (longer) tokens half of the time
            return r.nextBoolean() ? 32 + r.nextInt(95) : r.nextInt(n);
        }

        /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
        static char byteSymbol(int b) {
            if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return (char) b;
            int n = 0;
            for (int c = 0; c < b; c++) {
                if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF))) n++;
            }
            return (char) (256 + n);
        }
    }

    static GgufValue strings(List<String> s) { return GgufValue.ofArray(new GgufArray(GgufValueType.STRING, s.toArray(String[]::new))); }
}
