package org.moescope.format.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.moescope.format.FormatException;
import org.moescope.format.TensorData;
import org.moescope.format.gguf.GgufFile;
import org.moescope.format.safetensors.SafetensorsFile;

/**
 * Coverage-guided fuzzing of the file readers (Jazzer). Any input must either load or fail with
 * a FormatException: never another exception, an OutOfMemoryError or a hang. In a plain test run
 * the seeds in src/test/resources run as regression tests; JAZZER_FUZZ=1 fuzzes.
 */
class FormatFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void ggufReaderFailsOnlyWithFormatErrors(byte[] input) throws IOException {
        Path file = Files.createTempFile("fuzz", ".gguf");
        try {
            Files.write(file, input);
            try (GgufFile gguf = GgufFile.open(file)) {
                long sum = 0;
                for (TensorData t : gguf.tensors()) sum += t.data().byteSize() > 0 ? t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) : 0;
                gguf.metadata().keys().forEach(k -> gguf.metadata().get(k).map(Object::toString));
                if (sum == Long.MIN_VALUE) throw new AssertionError();
            } catch (FormatException expected) {
                // a clear error is the right answer to a bad file
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void safetensorsReaderFailsOnlyWithFormatErrors(byte[] input) throws IOException {
        Path file = Files.createTempFile("fuzz", ".safetensors");
        try {
            Files.write(file, input);
            try (SafetensorsFile st = SafetensorsFile.open(file)) {
                for (TensorData t : st.tensors()) if (t.byteSize() > 0) t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, t.byteSize() - 1);
            } catch (FormatException expected) {
                // a clear error is the right answer to a bad file
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
