package org.moescope.model.synth;

import java.util.List;
import java.util.Optional;

/**
 * The shapes of published MoE models (from their config.json), for synthetic benchmark files.
 *
 * @param qkNorm "none", "head" (per-head, Qwen3) or "whole" (OLMoE)
 */
public record Shape(String name, String ggufArchitecture, int layers, int hidden, int heads, int kvHeads, int headDim,
                    int experts, int expertsPerToken, int expertFfn, int sharedExperts, int leadingDense, int denseFfn,
                    int vocabulary, int context, double ropeTheta, float epsilon, String qkNorm,
                    int kvLoraRank, int ropeDim, int valueDim) {

    public boolean mla() { return kvLoraRank > 0; }

    public static final List<Shape> KNOWN = List.of(
            // allenai/OLMoE-1B-7B-0924
            new Shape("olmoe-1b-7b", "olmoe", 16, 2048, 16, 16, 128, 64, 8, 1024, 0, 0, 0, 50304, 4096, 10000, 1e-5f, "whole", 0, 0, 0),
            // Qwen/Qwen3-30B-A3B
            new Shape("qwen3-30b-a3b", "qwen3moe", 48, 2048, 32, 4, 128, 128, 8, 768, 0, 0, 0, 151936, 40960, 1e6, 1e-6f, "head", 0, 0, 0),
            // mistralai/Mixtral-8x7B-v0.1
            new Shape("mixtral-8x7b", "llama", 32, 4096, 32, 8, 128, 8, 2, 14336, 0, 0, 0, 32000, 32768, 1e6, 1e-5f, "none", 0, 0, 0),
            // deepseek-ai/DeepSeek-V2-Lite: MLA without a query LoRA, 2 shared experts, first layer dense
            new Shape("deepseek-v2-lite", "deepseek2", 27, 2048, 16, 16, 192, 64, 6, 1408, 2, 1, 10944, 102400, 163840, 10000, 1e-6f,
                    "none", 512, 64, 128));

    public static Optional<Shape> byName(String name) {
        return KNOWN.stream().filter(s -> s.name.equals(name)).findFirst();
    }
}
