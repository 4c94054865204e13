package org.moescope.model.arch;

import java.util.List;
import java.util.Optional;

import org.moescope.format.FormatException;
import org.moescope.format.gguf.GgufMetadata;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;

/** The supported architectures, looked up by HF model_type or GGUF general.architecture. */
public final class Architectures {
    private static final List<Architecture> ALL = List.of(new Qwen3Moe(), new Qwen2Moe(), new Olmoe(), new Mixtral(),
            new GraniteMoe(), new GptOss(), new Deepseek(false), new Deepseek(true), new Glm4Moe(), new Llama(), new Qwen3());

    private Architectures() {}

    public static List<Architecture> all() { return ALL; }

    public static Optional<Architecture> byModelType(String modelType) {
        return ALL.stream().filter(a -> a.modelType().equals(modelType)).findFirst();
    }

    public static Architecture forHf(HfConfig config) {
        String type = config.requireString("model_type");
        return byModelType(type).orElseThrow(() -> config.invalid("model_type", "architecture '" + type
                + "' is not supported (supported: " + String.join(", ", ALL.stream().map(Architecture::modelType).toList()) + ")"));
    }

    /** GGUF names are not one-to-one: llama with experts is Mixtral, deepseek2 covers V2 and V3. */
    public static Architecture forGguf(java.nio.file.Path file, GgufMetadata metadata) {
        GgufConfig g = new GgufConfig(file, metadata);
        String name = g.architecture();
        return switch (name) {
            case "llama" -> g.getInt("expert_count", 0) > 0 ? byModelType("mixtral").orElseThrow() : byModelType("llama").orElseThrow();
            case "deepseek2" -> byModelType(g.getInt("expert_gating_func", 1) == 2 ? "deepseek_v3" : "deepseek_v2").orElseThrow();
            default -> ALL.stream().filter(a -> name.equals(a.ggufName())).findFirst().orElseThrow(() ->
                    new FormatException(file, "metadata 'general.architecture' = '" + name + "' is not a supported architecture"));
        };
    }
}
