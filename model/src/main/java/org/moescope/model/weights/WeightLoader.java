package org.moescope.model.weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.moescope.format.FormatException;
import org.moescope.format.TensorData;
import org.moescope.model.config.AttentionConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.MoeConfig;

/**
 * Finds every weight a configuration needs, under GGUF names (llama.cpp's LLM_TENSOR_NAMES) or HF
 * names, checks its shape, and returns them by role. Anything missing or misshapen is an error
 * naming the file and tensor, raised before the first token is computed.
 */
public final class WeightLoader {
    private final ModelConfig config;
    private final TensorSource source;

    private WeightLoader(ModelConfig config, TensorSource source) {
        this.config = config;
        this.source = source;
    }

    // ---------------------------------------------------------------- GGUF

    public static ModelWeights fromGguf(ModelConfig config, TensorSource source) {
        return new WeightLoader(config, source).gguf();
    }

    private ModelWeights gguf() {
        int hidden = config.hiddenSize();
        TensorData embedding = expect(source.require("token_embd.weight"), config.vocabularySize(), hidden);
        TensorData output = source.find("output.weight").orElse(embedding);
        expect(output, config.vocabularySize(), hidden);
        List<ModelWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < config.layerCount(); l++) {
            String p = "blk." + l + ".";
            var attention = config.attention().isLatent() ? ggufLatentAttention(p) : ggufAttention(p);
            TensorData ffnNorm = vector(source.first(p + "ffn_norm.weight", p + "post_attention_norm.weight"), p + "ffn_norm.weight", hidden);
            ModelWeights.Mlp dense = null;
            ModelWeights.Moe moe = null;
            if (config.isMoeLayer(l)) {
                moe = ggufMoe(p);
            } else {
                dense = mlp(source.require(p + "ffn_gate.weight"), source.require(p + "ffn_up.weight"),
                        source.require(p + "ffn_down.weight"), null, null, null, config.feedForwardSize());
            }
            layers.add(new ModelWeights.Layer(vector(source.require(p + "attn_norm.weight"), null, hidden), attention, ffnNorm, dense, moe));
        }
        return new ModelWeights(embedding, vector(source.require("output_norm.weight"), null, hidden), output, List.copyOf(layers));
    }

    private ModelWeights.Attention ggufAttention(String p) {
        AttentionConfig a = config.attention();
        int hidden = config.hiddenSize();
        TensorData[] norms = qkNorms(source.find(p + "attn_q_norm.weight").orElse(null), source.find(p + "attn_k_norm.weight").orElse(null));
        return new ModelWeights.Attention(
                expect(source.require(p + "attn_q.weight"), a.queryWidth(), hidden),
                expect(source.require(p + "attn_k.weight"), a.keyWidth(), hidden),
                expect(source.require(p + "attn_v.weight"), a.valueWidth(), hidden),
                expect(source.require(p + "attn_output.weight"), hidden, a.heads() * a.valueHeadDim()),
                optionalVector(p + "attn_q.bias", a.qkvBias(), a.queryWidth()),
                optionalVector(p + "attn_k.bias", a.qkvBias(), a.keyWidth()),
                optionalVector(p + "attn_v.bias", a.qkvBias(), a.valueWidth()),
                optionalVector(p + "attn_output.bias", a.outputBias(), hidden),
                norms[0], norms[1],
                a.sinks() ? vector(source.require(p + "attn_sinks.weight"), null, a.heads()) : null,
                null, null, null, null, null, null, null);
    }

    private ModelWeights.Attention ggufLatentAttention(String p) {
        AttentionConfig a = config.attention();
        var mla = a.mla();
        int hidden = config.hiddenSize();
        TensorData queryA = null, queryANorm = null, queryB = null, q = null;
        if (mla.queryLoraRank() > 0) {
            queryA = expect(source.require(p + "attn_q_a.weight"), mla.queryLoraRank(), hidden);
            queryANorm = vector(source.require(p + "attn_q_a_norm.weight"), null, mla.queryLoraRank());
            queryB = expect(source.require(p + "attn_q_b.weight"), a.heads() * a.headDim(), mla.queryLoraRank());
        } else {
            q = expect(source.require(p + "attn_q.weight"), a.heads() * a.headDim(), hidden);
        }
        TensorData keyValueA = expect(source.require(p + "attn_kv_a_mqa.weight"), mla.kvLoraRank() + mla.ropeDim(), hidden);
        List<TensorData> keyUp = new ArrayList<>();
        List<TensorData> valueUp = new ArrayList<>();
        var kb = source.find(p + "attn_k_b.weight");
        if (kb.isPresent()) {
            expect3(kb.get(), a.heads(), mla.kvLoraRank(), mla.nopeDim());
            TensorData vb = expect3(source.require(p + "attn_v_b.weight"), a.heads(), mla.valueDim(), mla.kvLoraRank());
            for (int h = 0; h < a.heads(); h++) {
                keyUp.add(TensorViews.slice(kb.get(), h, kb.get().name() + "[" + h + "]"));
                valueUp.add(TensorViews.slice(vb, h, vb.name() + "[" + h + "]"));
            }
        } else {
            splitKeyValueUp(source.require(p + "attn_kv_b.weight"), keyUp, valueUp);
        }
        return new ModelWeights.Attention(q, null, null, expect(source.require(p + "attn_output.weight"), hidden, a.heads() * mla.valueDim()),
                null, null, null, null, null, null, null, queryA, queryANorm, queryB, keyValueA,
                vector(source.require(p + "attn_kv_a_norm.weight"), null, mla.kvLoraRank()), List.copyOf(keyUp), List.copyOf(valueUp));
    }

    private ModelWeights.Moe ggufMoe(String p) {
        MoeConfig m = config.moe();
        int hidden = config.hiddenSize();
        TensorData router = expect(source.require(p + "ffn_gate_inp.weight"), m.experts(), hidden);
        TensorData gate = expect3(source.require(p + "ffn_gate_exps.weight"), m.experts(), m.expertFeedForwardSize(), hidden);
        TensorData up = expect3(source.require(p + "ffn_up_exps.weight"), m.experts(), m.expertFeedForwardSize(), hidden);
        TensorData down = expect3(source.require(p + "ffn_down_exps.weight"), m.experts(), hidden, m.expertFeedForwardSize());
        TensorData gateBias = m.expertBias() ? source.require(p + "ffn_gate_exps.bias") : null;
        TensorData upBias = m.expertBias() ? source.require(p + "ffn_up_exps.bias") : null;
        TensorData downBias = m.expertBias() ? source.require(p + "ffn_down_exps.bias") : null;
        List<ModelWeights.Mlp> experts = new ArrayList<>();
        for (int e = 0; e < m.experts(); e++) {
            String n = "[" + e + "]";
            experts.add(new ModelWeights.Mlp(TensorViews.slice(gate, e, gate.name() + n), TensorViews.slice(up, e, up.name() + n),
                    TensorViews.slice(down, e, down.name() + n),
                    gateBias == null ? null : TensorViews.row(gateBias, e, gateBias.name() + n),
                    upBias == null ? null : TensorViews.row(upBias, e, upBias.name() + n),
                    downBias == null ? null : TensorViews.row(downBias, e, downBias.name() + n)));
        }
        ModelWeights.Mlp shared = null;
        TensorData sharedGate = null;
        if (m.sharedExperts() > 0) {
            shared = mlp(source.require(p + "ffn_gate_shexp.weight"), source.require(p + "ffn_up_shexp.weight"),
                    source.require(p + "ffn_down_shexp.weight"), null, null, null, m.sharedFeedForwardSize());
            if (m.sharedExpertGate()) sharedGate = expect(source.require(p + "ffn_gate_inp_shexp.weight"), 1, hidden);
        }
        return new ModelWeights.Moe(router, optionalVector(p + "ffn_gate_inp.bias", m.router().logitBias(), m.experts()),
                optionalVector(p + "exp_probs_b.bias", m.router().selectionBias(), m.experts()), List.copyOf(experts), shared, sharedGate);
    }

    // ---------------------------------------------------------------- Hugging Face

    public static ModelWeights fromHf(ModelConfig config, TensorSource source, HfNames names) {
        return new WeightLoader(config, source).hf(names);
    }

    private ModelWeights hf(HfNames names) {
        int hidden = config.hiddenSize();
        TensorData embedding = expect(source.require("model.embed_tokens.weight"), config.vocabularySize(), hidden);
        TensorData output = config.tiedEmbeddings() ? embedding : source.find("lm_head.weight").orElse(embedding);
        expect(output, config.vocabularySize(), hidden);
        List<ModelWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < config.layerCount(); l++) {
            String p = "model.layers." + l + ".";
            var attention = config.attention().isLatent() ? hfLatentAttention(p + "self_attn.") : hfAttention(p + "self_attn.");
            ModelWeights.Mlp dense = null;
            ModelWeights.Moe moe = null;
            if (config.isMoeLayer(l)) {
                moe = hfMoe(p, names);
            } else {
                dense = hfMlp(p + "mlp.", config.feedForwardSize());
            }
            layers.add(new ModelWeights.Layer(vector(source.require(p + "input_layernorm.weight"), null, hidden), attention,
                    vector(source.require(p + "post_attention_layernorm.weight"), null, hidden), dense, moe));
        }
        return new ModelWeights(embedding, vector(source.require("model.norm.weight"), null, hidden), output, List.copyOf(layers));
    }

    private ModelWeights.Attention hfAttention(String p) {
        AttentionConfig a = config.attention();
        int hidden = config.hiddenSize();
        TensorData[] norms = qkNorms(source.find(p + "q_norm.weight").orElse(null), source.find(p + "k_norm.weight").orElse(null));
        return new ModelWeights.Attention(
                expect(source.require(p + "q_proj.weight"), a.queryWidth(), hidden),
                expect(source.require(p + "k_proj.weight"), a.keyWidth(), hidden),
                expect(source.require(p + "v_proj.weight"), a.valueWidth(), hidden),
                expect(source.require(p + "o_proj.weight"), hidden, a.heads() * a.valueHeadDim()),
                optionalVector(p + "q_proj.bias", a.qkvBias(), a.queryWidth()),
                optionalVector(p + "k_proj.bias", a.qkvBias(), a.keyWidth()),
                optionalVector(p + "v_proj.bias", a.qkvBias(), a.valueWidth()),
                optionalVector(p + "o_proj.bias", a.outputBias(), hidden),
                norms[0], norms[1],
                a.sinks() ? vector(source.require(p + "sinks"), null, a.heads()) : null,
                null, null, null, null, null, null, null);
    }

    private ModelWeights.Attention hfLatentAttention(String p) {
        AttentionConfig a = config.attention();
        var mla = a.mla();
        int hidden = config.hiddenSize();
        TensorData queryA = null, queryANorm = null, queryB = null, q = null;
        if (mla.queryLoraRank() > 0) {
            queryA = expect(source.require(p + "q_a_proj.weight"), mla.queryLoraRank(), hidden);
            queryANorm = vector(source.require(p + "q_a_layernorm.weight"), null, mla.queryLoraRank());
            queryB = expect(source.require(p + "q_b_proj.weight"), a.heads() * a.headDim(), mla.queryLoraRank());
        } else {
            q = expect(source.require(p + "q_proj.weight"), a.heads() * a.headDim(), hidden);
        }
        List<TensorData> keyUp = new ArrayList<>();
        List<TensorData> valueUp = new ArrayList<>();
        splitKeyValueUp(source.require(p + "kv_b_proj.weight"), keyUp, valueUp);
        return new ModelWeights.Attention(q, null, null, expect(source.require(p + "o_proj.weight"), hidden, a.heads() * mla.valueDim()),
                null, null, null, null, null, null, null, queryA, queryANorm, queryB,
                expect(source.require(p + "kv_a_proj_with_mqa.weight"), mla.kvLoraRank() + mla.ropeDim(), hidden),
                vector(source.require(p + "kv_a_layernorm.weight"), null, mla.kvLoraRank()), List.copyOf(keyUp), List.copyOf(valueUp));
    }

    /**
     * kv_b [heads·(nope + v), kvLora] holds, per head, nope key rows then v value rows. The value
     * rows are used as they are; the key rows are transposed to [kvLora, nope] so that the query
     * can be projected into the latent space (weight absorption, as llama.cpp's attn_k_b).
     */
    private void splitKeyValueUp(TensorData kvB, List<TensorData> keyUp, List<TensorData> valueUp) {
        var a = config.attention();
        var mla = a.mla();
        int nope = mla.nopeDim();
        int v = mla.valueDim();
        int rank = mla.kvLoraRank();
        expect(kvB, a.heads() * (nope + v), rank);
        float[] all = TensorViews.toFloats(kvB);
        for (int h = 0; h < a.heads(); h++) {
            float[] kT = new float[rank * nope];
            int base = h * (nope + v) * rank;
            for (int i = 0; i < nope; i++) {
                for (int r = 0; r < rank; r++) kT[r * nope + i] = all[base + i * rank + r];
            }
            keyUp.add(TensorViews.ofFloats(kvB.name() + "[k" + h + "]ᵀ", kT, rank, nope));
            valueUp.add(TensorViews.rows(kvB, (long) h * (nope + v) + nope, v, kvB.name() + "[v" + h + "]"));
        }
    }

    private ModelWeights.Mlp hfMlp(String p, int size) {
        return mlp(source.require(p + "gate_proj.weight"), source.require(p + "up_proj.weight"), source.require(p + "down_proj.weight"),
                null, null, null, size);
    }

    private ModelWeights.Moe hfMoe(String p, HfNames names) {
        MoeConfig m = config.moe();
        int hidden = config.hiddenSize();
        int size = m.expertFeedForwardSize();
        TensorData router = expect(source.require(p + names.router()), m.experts(), hidden);
        TensorData routerBias = names.routerBias() == null ? null : optionalVector(p + names.routerBias(), m.router().logitBias(), m.experts());
        String x = p + names.experts();
        List<ModelWeights.Mlp> experts = new ArrayList<>();
        HfNames.ExpertLayout layout = names.layout();
        if (layout == HfNames.ExpertLayout.PER_EXPERT && source.find(x + "0." + names.gate() + ".weight").isEmpty()
                && source.find(x + "gate_up_proj").isPresent()) {
            layout = HfNames.ExpertLayout.FUSED;
        }
        switch (layout) {
            case PER_EXPERT -> {
                for (int e = 0; e < m.experts(); e++) {
                    String ep = x + e + ".";
                    experts.add(mlp(source.require(ep + names.gate() + ".weight"), source.require(ep + names.up() + ".weight"),
                            source.require(ep + names.down() + ".weight"), null, null, null, size));
                }
            }
            case FUSED, GRANITE -> {
                TensorData gateUp = expect3(source.require(x + (layout == HfNames.ExpertLayout.FUSED ? "gate_up_proj" : "input_linear.weight")),
                        m.experts(), 2 * size, hidden);
                TensorData down = expect3(source.require(x + (layout == HfNames.ExpertLayout.FUSED ? "down_proj" : "output_linear.weight")),
                        m.experts(), hidden, size);
                for (int e = 0; e < m.experts(); e++) {
                    TensorData both = TensorViews.slice(gateUp, e, gateUp.name() + "[" + e + "]");
                    experts.add(new ModelWeights.Mlp(TensorViews.rows(both, 0, size, both.name() + ".gate"),
                            TensorViews.rows(both, size, size, both.name() + ".up"),
                            TensorViews.slice(down, e, down.name() + "[" + e + "]"), null, null, null));
                }
            }
            case GPT_OSS -> experts.addAll(gptOssExperts(x, m, hidden));
        }
        ModelWeights.Mlp shared = null;
        TensorData sharedGate = null;
        if (m.sharedExperts() > 0) {
            String sp = source.find(p + "mlp.shared_experts.gate_proj.weight").isPresent() ? p + "mlp.shared_experts." : p + "mlp.shared_expert.";
            shared = hfMlp(sp, m.sharedFeedForwardSize());
            if (m.sharedExpertGate()) sharedGate = expect(source.require(p + "mlp.shared_expert_gate.weight"), 1, hidden);
        }
        return new ModelWeights.Moe(router, routerBias,
                optionalVector(p + "mlp.gate.e_score_correction_bias", m.router().selectionBias(), m.experts()),
                List.copyOf(experts), shared, sharedGate);
    }

    /**
     * gpt-oss stores experts for x·W: gate_up_proj [E, H, 2I] with gate and up interleaved in the
     * last dimension (gate = [..., ::2], up = [..., 1::2]), down_proj [E, I, H]. Rearranged here
     * into [out, in] matrices like every other architecture's.
     */
    private List<ModelWeights.Mlp> gptOssExperts(String x, MoeConfig m, int hidden) {
        int size = m.expertFeedForwardSize();
        TensorData gateUp = expect3(source.require(x + "gate_up_proj"), m.experts(), hidden, 2 * size);
        TensorData down = expect3(source.require(x + "down_proj"), m.experts(), size, hidden);
        float[] gu = TensorViews.toFloats(gateUp);
        float[] gub = TensorViews.toFloats(expect(source.require(x + "gate_up_proj_bias"), m.experts(), 2 * size));
        float[] dn = TensorViews.toFloats(down);
        float[] dnb = TensorViews.toFloats(expect(source.require(x + "down_proj_bias"), m.experts(), hidden));
        List<ModelWeights.Mlp> experts = new ArrayList<>();
        for (int e = 0; e < m.experts(); e++) {
            float[] g = new float[size * hidden], u = new float[size * hidden], d = new float[hidden * size];
            float[] gb = new float[size], ub = new float[size];
            for (int h = 0; h < hidden; h++) {
                for (int i = 0; i < size; i++) {
                    int at = (e * hidden + h) * 2 * size + 2 * i;
                    g[i * hidden + h] = gu[at];
                    u[i * hidden + h] = gu[at + 1];
                }
            }
            for (int i = 0; i < size; i++) {
                gb[i] = gub[e * 2 * size + 2 * i];
                ub[i] = gub[e * 2 * size + 2 * i + 1];
                for (int h = 0; h < hidden; h++) d[h * size + i] = dn[(e * size + i) * hidden + h];
            }
            String n = x + "[" + e + "]";
            experts.add(new ModelWeights.Mlp(TensorViews.ofFloats(n + ".gate", g, size, hidden), TensorViews.ofFloats(n + ".up", u, size, hidden),
                    TensorViews.ofFloats(n + ".down", d, hidden, size), TensorViews.ofFloats(n + ".gate_bias", gb, size),
                    TensorViews.ofFloats(n + ".up_bias", ub, size),
                    TensorViews.ofFloats(n + ".down_bias", Arrays.copyOfRange(dnb, e * hidden, (e + 1) * hidden), hidden)));
        }
        return experts;
    }

    // ---------------------------------------------------------------- shape checks

    private ModelWeights.Mlp mlp(TensorData gate, TensorData up, TensorData down, TensorData gb, TensorData ub, TensorData db, int size) {
        int hidden = config.hiddenSize();
        return new ModelWeights.Mlp(expect(gate, size, hidden), expect(up, size, hidden), expect(down, hidden, size), gb, ub, db);
    }

    private TensorData[] qkNorms(TensorData qNorm, TensorData kNorm) {
        AttentionConfig a = config.attention();
        return switch (a.qkNorm()) {
            case NONE -> new TensorData[2];
            case PER_HEAD -> new TensorData[] {vector(qNorm, "q_norm", a.headDim()), vector(kNorm, "k_norm", a.headDim())};
            case WHOLE -> new TensorData[] {vector(qNorm, "q_norm", a.queryWidth()), vector(kNorm, "k_norm", a.keyWidth())};
        };
    }

    private TensorData optionalVector(String name, boolean required, int length) {
        var t = source.find(name);
        if (t.isEmpty()) {
            if (required) throw new FormatException(source.path(), "tensor '" + name + "' is missing");
            return null;
        }
        return vector(t.get(), name, length);
    }

    private TensorData vector(TensorData t, String name, int length) {
        if (t == null) throw new FormatException(source.path(), "tensor '" + name + "' is missing");
        if (t.elementCount() != length) {
            throw new FormatException(source.path(), "tensor '" + t.name() + "' has shape " + t.shapeString() + ", expected " + length + " values");
        }
        return t;
    }

    private TensorData expect(TensorData t, long rows, long columns) {
        long[] s = t.shape();
        if (s.length != 2 || s[0] != rows || s[1] != columns) {
            throw new FormatException(source.path(), "tensor '" + t.name() + "' has shape " + t.shapeString() + ", expected ["
                    + rows + ", " + columns + "] for this configuration");
        }
        return t;
    }

    private TensorData expect3(TensorData t, long n, long rows, long columns) {
        long[] s = t.shape();
        if (s.length != 3 || s[0] != n || s[1] != rows || s[2] != columns) {
            throw new FormatException(source.path(), "tensor '" + t.name() + "' has shape " + t.shapeString() + ", expected ["
                    + n + ", " + rows + ", " + columns + "] for this configuration");
        }
        return t;
    }
}
