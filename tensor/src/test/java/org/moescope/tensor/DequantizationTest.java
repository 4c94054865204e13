package org.moescope.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.format.TensorData;
import org.moescope.format.gguf.GgufFile;
import org.moescope.format.safetensors.SafetensorsFile;
import org.moescope.testkit.SharedFiles;

/** Every quant-zoo tensor decodes exactly as gguf-py (llama.cpp's reference dequantizers) decodes it. */
class DequantizationTest {
    static Stream<String> tensors() {
        Path zoo = SharedFiles.require("fixtures/quant/quant-zoo.gguf");
        try (GgufFile g = GgufFile.open(zoo)) {
            return g.tensors().stream().map(TensorData::name).toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("tensors")
    void matchesReferenceDequantization(String name) {
        Path dir = SharedFiles.require("fixtures/quant");
        try (GgufFile g = GgufFile.open(dir.resolve("quant-zoo.gguf"));
             SafetensorsFile ref = SafetensorsFile.open(dir.resolve("quant-zoo-reference.safetensors"))) {
            TensorData t = g.requireTensor(name);
            Matrix m = Matrix.of(t);
            float[] expected = ref.requireTensor(name).data().toArray(ValueLayout.JAVA_FLOAT);
            float[] row = new float[m.columns()];
            int exactMismatches = 0;
            double maxUlps = 0;
            for (int r = 0; r < m.rows(); r++) {
                m.dequantizeRow(r, row, 0);
                for (int c = 0; c < row.length; c++) {
                    float e = expected[r * row.length + c];
                    if (Float.floatToIntBits(row[c]) != Float.floatToIntBits(e)) {
                        exactMismatches++;
                        maxUlps = Math.max(maxUlps, Math.abs(row[c] - e) / Math.ulp(e));
                    }
                }
            }
            System.out.printf("DEQUANT %-36s %-7s %d values, %d not bit-identical, max %.1f ulp%n", name, t.type(), expected.length,
                    exactMismatches, maxUlps);
            // gguf-py computes in numpy float32 in a different order for a few types: allow 1 ulp there
            assertThat(maxUlps).as("%s: max difference in ulps", name).isLessThanOrEqualTo(1.0);
        }
    }
}
