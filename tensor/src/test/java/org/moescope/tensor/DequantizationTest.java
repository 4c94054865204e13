package org.moescope.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.format.TensorData;
import org.moescope.format.gguf.GgufFile;
import org.moescope.format.safetensors.SafetensorsFile;
import org.moescope.testkit.SharedFiles;

/** Every quant-zoo tensor decodes exactly as gguf-py (llama.cpp's reference dequantizers) decodes it. */
class DequantizationTest {

    /** The Q8_0 kernels' scale table holds exactly what converting each of the 65 536 f16 values gives (NaN payloads included). */
    @Test
    void scaleTableHoldsEveryHalfAsConverted() {
        for (int h = 0; h < 1 << 16; h++) {
            int expected = Float.floatToRawIntBits(Float.float16ToFloat((short) h));
            if (Float.floatToRawIntBits(Blocks.HALVES[h]) != expected) {
                throw new AssertionError("HALVES[0x%04x] = %s, Float.float16ToFloat gives %s".formatted(h, Blocks.HALVES[h], Float.intBitsToFloat(expected)));
            }
        }
        assertThat(Blocks.HALVES[0x3c00]).isEqualTo(1f);
        assertThat(Blocks.HALVES[0xc000]).isEqualTo(-2f);
        assertThat(Blocks.HALVES[0x0001]).isEqualTo(0x1p-24f);
    }

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
