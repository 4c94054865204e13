package org.moescope.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.format.FormatException;
import org.moescope.model.config.ModelConfig;
import org.moescope.testkit.SharedFiles;

class ModelFileTest {
    static Stream<String> architectures() {
        return Stream.of("qwen3_moe", "qwen2_moe", "olmoe", "mixtral", "deepseek_v2", "deepseek_v3", "gpt_oss", "granitemoe",
                "glm4_moe", "llama", "qwen3");
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void hfAndGgufDescribeTheSameModel(String arch) {
        Path dir = SharedFiles.require("fixtures/arch/" + arch);
        try (ModelFile hf = ModelFile.open(dir.resolve("hf"))) {
            ModelConfig c = hf.config();
            assertThat(c.architecture()).isEqualTo(arch);
            assertThat(c.hiddenSize()).isEqualTo(64);
            assertThat(c.layerCount()).isEqualTo(3);
            assertThat(c.vocabularySize()).isEqualTo(512);
            assertThat(hf.weights().layers()).hasSize(3);
            if (!Files.exists(dir.resolve("model-f32.gguf"))) return;
            for (String file : new String[] {"model-f32.gguf", "model-q8_0.gguf"}) {
                try (ModelFile gguf = ModelFile.open(dir.resolve(file))) {
                    ModelConfig g = gguf.config();
                    assertThat(g.architecture()).isEqualTo(arch);
                    assertThat(g.attention().heads()).isEqualTo(c.attention().heads());
                    assertThat(g.attention().keyValueHeads()).isEqualTo(c.attention().keyValueHeads());
                    assertThat(g.attention().headDim()).isEqualTo(c.attention().headDim());
                    assertThat(g.attention().valueHeadDim()).isEqualTo(c.attention().valueHeadDim());
                    assertThat(g.attention().scale()).isCloseTo(c.attention().scale(), org.assertj.core.data.Offset.offset(1e-9));
                    assertThat(g.rope().theta()).isEqualTo(c.rope().theta());
                    assertThat(g.rope().dimensions()).isEqualTo(c.rope().dimensions());
                    assertThat(g.normEpsilon()).isEqualTo(c.normEpsilon());
                    assertThat(g.scales()).isEqualTo(c.scales());
                    assertThat(g.moe()).isEqualTo(c.moe());
                    assertThat(g.tiedEmbeddings()).isEqualTo(c.tiedEmbeddings());
                    assertThat(gguf.parameterCount()).isEqualTo(hf.parameterCount());
                    assertThat(gguf.activeParameterCount()).isEqualTo(hf.activeParameterCount());
                }
            }
        }
    }

    @Test
    void miniMoeParameterCountsFromBothFormats() {
        Path dir = SharedFiles.require("models/mini-moe");
        for (Path p : new Path[] {dir.resolve("hf"), dir.resolve("mini-moe-q8_0.gguf"), dir.resolve("mini-moe-Q4_K_M.gguf")}) {
            try (ModelFile m = ModelFile.open(p)) {
                assertThat(m.parameterCount()).as(p.toString()).isEqualTo(31_641_600L);
                // 6 layers × 28 unselected experts × 3·192·256
                assertThat(m.activeParameterCount()).as(p.toString()).isEqualTo(31_641_600L - 6L * 28 * 3 * 192 * 256);
                assertThat(m.config().tiedEmbeddings()).isTrue();
                assertThat(m.config().moe().experts()).isEqualTo(32);
                assertThat(m.config().moe().expertsPerToken()).isEqualTo(4);
                assertThat(m.config().moe().router().normalize()).isTrue();
            }
        }
    }

    @Test
    void deepseekV3GgufRoutesWithSigmoidAndSelectionBias() {
        Path file = SharedFiles.require("fixtures/arch/deepseek_v3/model-f32.gguf");
        try (ModelFile m = ModelFile.open(file)) {
            var router = m.config().moe().router();
            assertThat(router.scoring()).isEqualTo(org.moescope.model.config.RouterConfig.Scoring.SIGMOID);
            assertThat(router.selectionBias()).isTrue();
            assertThat(router.groups()).isEqualTo(4);
            assertThat(router.topGroups()).isEqualTo(2);
            assertThat(router.scale()).isEqualTo(2.5f);
            assertThat(m.weights().layers().get(1).moe().selectionBias()).isNotNull();
            assertThat(m.config().isMoeLayer(0)).isFalse();
        }
    }

    @Test
    void unsupportedModelTypeIsNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"bert\"}");
        assertThatThrownBy(() -> ModelFile.open(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("'bert' is not supported");
    }

    @Test
    void missingConfigFieldIsNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen3_moe\", \"hidden_size\": 64}");
        assertThatThrownBy(() -> ModelFile.open(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("field 'num_hidden_layers' is missing");
    }

    @Test
    void tensorWithTheWrongShapeIsNamed(@TempDir Path dir) throws IOException {
        Path src = SharedFiles.require("fixtures/arch/llama/hf");
        String config = Files.readString(src.resolve("config.json")).replace("\"intermediate_size\": 128", "\"intermediate_size\": 96");
        Files.writeString(dir.resolve("config.json"), config);
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        assertThatThrownBy(() -> ModelFile.open(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model.layers.0.mlp.gate_proj.weight").hasMessageContaining("expected [96, 64]");
    }
}
