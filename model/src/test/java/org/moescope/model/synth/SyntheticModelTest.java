package org.moescope.model.synth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.moescope.format.TensorType;
import org.moescope.model.ModelFile;

class SyntheticModelTest {
    @TempDir Path dir;

    /** Small versions of the real shapes: every architecture family and file type must load and describe itself. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"olmoe, Q8_0", "olmoe, Q4_K_M", "qwen3moe, BF16", "llama, Q4_K_M", "deepseek2, Q8_0", "deepseek2, Q4_K_M"})
    void syntheticFilesLoadWithTheirShapes(String arch, SyntheticModel.FileType type) {
        Shape shape = switch (arch) {
            case "olmoe" -> new Shape("t", "olmoe", 4, 256, 4, 4, 64, 8, 2, 256, 0, 0, 0, 600, 512, 10000, 1e-5f, "whole", 0, 0, 0);
            case "qwen3moe" -> new Shape("t", "qwen3moe", 3, 256, 4, 2, 64, 8, 2, 192, 0, 0, 0, 600, 512, 1e6, 1e-6f, "head", 0, 0, 0);
            case "llama" -> new Shape("t", "llama", 8, 256, 4, 2, 64, 4, 2, 512, 0, 0, 0, 600, 512, 1e6, 1e-5f, "none", 0, 0, 0);
            default -> new Shape("t", "deepseek2", 3, 256, 4, 4, 96, 8, 2, 160, 2, 1, 512, 600, 512, 10000, 1e-6f, "none", 128, 32, 64);
        };
        Path file = dir.resolve(arch + ".gguf");
        SyntheticModel model = new SyntheticModel(shape, type, shape.layers());
        long[] last = {0};
        model.write(file, b -> last[0] = b);
        assertThat(last[0]).isEqualTo(model.estimatedBytes());
        try (ModelFile m = ModelFile.open(file)) {
            assertThat(m.config().layerCount()).isEqualTo(shape.layers());
            assertThat(m.config().moe().experts()).isEqualTo(shape.experts());
            assertThat(m.config().vocabularySize()).isEqualTo(600);
            var types = m.storedTensors().stream().map(t -> t.type()).distinct().toList();
            switch (type) {
                case Q8_0 -> assertThat(types).contains(TensorType.Q8_0).doesNotContain(TensorType.Q4_K);
                case BF16 -> assertThat(types).contains(TensorType.BF16);
                case Q4_K_M -> assertThat(types).contains(TensorType.Q4_K, TensorType.Q6_K);
            }
        }
    }
}
