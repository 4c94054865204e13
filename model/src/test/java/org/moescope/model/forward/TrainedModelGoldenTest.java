package org.moescope.model.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.format.safetensors.SafetensorsFile;
import org.moescope.model.ModelFile;
import org.moescope.testkit.SharedFiles;

/**
 * The trained models (mini-moe, micro-moe): the bf16 HF weights against HF's float32 forward pass
 * (logits within 1e-3, hidden states and router logits within 1e-4 relative), and greedy
 * continuations from both the HF folder and the Q8_0 GGUF equal to golden.json's.
 */
class TrainedModelGoldenTest {
    static Stream<Arguments> forwardCases() {
        List<Arguments> out = new ArrayList<>();
        for (String model : new String[] {"mini-moe", "micro-moe"}) {
            for (String c : new String[] {"chat", "text", "think"}) out.add(Arguments.of(model, c));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("forwardCases")
    void bf16WeightsMatchTheFloat32Reference(String model, String golden) {
        Path dir = SharedFiles.require("models/" + model);
        try (ModelFile file = ModelFile.open(dir.resolve("hf"));
             SafetensorsFile reference = SafetensorsFile.open(dir.resolve("golden-" + golden + ".safetensors"))) {
            GoldenRun run = new GoldenRun(file, GoldenRun.inputIds(reference));
            var logits = GoldenRun.compare(run.logits, GoldenRun.floats(reference, "logits"));
            System.out.printf("GOLDEN %s hf %s logits %s%n", model, golden, logits.describe(run.vocabulary));
            assertThat(logits.maxAbs()).as("logits: %s", logits.describe(run.vocabulary)).isLessThan(1e-3);
            for (var t : reference.tensors()) {
                if (!t.name().startsWith("hidden.") && !t.name().startsWith("router_logits.")) continue;
                var d = GoldenRun.compare(run.captured.get(t.name()), GoldenRun.floats(reference, t.name()));
                assertThat(d.relative()).as("%s: %s", t.name(), d.describe((int) t.columns())).isLessThan(1e-4);
            }
        }
    }

    /** Max |llama.cpp's Q8_0 logits − the float32 reference| over a case's prompt positions. */
    static double llamaCppError(Path dir, String golden) {
        try (SafetensorsFile llama = SafetensorsFile.open(dir.resolve("golden-llamacpp-q8_0-" + golden + ".safetensors"));
             SafetensorsFile reference = SafetensorsFile.open(dir.resolve("golden-" + golden + ".safetensors"))) {
            float[] l = GoldenRun.floats(llama, "logits");
            float[] r = GoldenRun.floats(reference, "logits");
            int offset = r.length - l.length; // llama.cpp may keep fewer positions
            double max = 0;
            for (int i = 0; i < l.length; i++) max = Math.max(max, Math.abs(l[i] - r[offset + i]));
            return max;
        }
    }

    static Stream<Arguments> greedyCases() {
        List<Arguments> out = new ArrayList<>();
        for (String model : new String[] {"mini-moe", "micro-moe"}) {
            for (String source : new String[] {"hf", model + "-q8_0.gguf"}) out.add(Arguments.of(model, source));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("greedyCases")
    void greedyContinuationsMatchReference(String model, String source) throws Exception {
        Path dir = SharedFiles.require("models/" + model);
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("golden.json").toFile()).get("cases");
        try (ModelFile file = ModelFile.open(dir.resolve(source))) {
            for (var it = cases.fields(); it.hasNext(); ) {
                var c = it.next();
                int[] prompt = ArchitectureGoldenTest.ids(c.getValue().get("input_ids"));
                int[] expected = ArchitectureGoldenTest.ids(c.getValue().get("greedy_output"));
                int[] actual = ArchitectureGoldenTest.greedy(file, prompt, expected.length);
                int at = 0;
                while (at < expected.length && actual[at] == expected[at]) at++;
                if (at < expected.length) {
                    try (ModelFile hf = ModelFile.open(dir.resolve("hf"))) {
                        int[] sequence = java.util.Arrays.copyOf(expected, at);
                        GoldenRun ref = new GoldenRun(hf, sequence);
                        GoldenRun mine = new GoldenRun(file, sequence);
                        int v = ref.vocabulary;
                        int row = (at - 1) * v;
                        double margin = ref.logits[row + expected[at]] - ref.logits[row + actual[at]];
                        System.out.printf("DIVERGE %s %s %s at %d: expected %d actual %d; reference logits %.4f vs %.4f (margin %.4f);"
                                        + " ours %.4f vs %.4f%n", model, source, c.getKey(), at, expected[at], actual[at],
                                ref.logits[row + expected[at]], ref.logits[row + actual[at]], margin,
                                mine.logits[row + expected[at]], mine.logits[row + actual[at]]);
                        // Only a quantized file may diverge, and only where the reference's own margin is
                        // below the error Q8_0 brings: llama.cpp on the same file and case differs from
                        // the reference by up to this much (its golden logits), so such a flip is rounding.
                        assertThat(source).as("the bf16 path must reproduce HF exactly").endsWith(".gguf");
                        double quantizationError = llamaCppError(dir, c.getKey());
                        assertThat(margin).as("%s %s case %s diverges at %d where the reference margin is %.4f (Q8_0 error here %.3f)",
                                model, source, c.getKey(), at, margin, quantizationError).isLessThan(quantizationError);
                        continue;
                    }
                }
                assertThat(actual).as("%s %s case %s", model, source, c.getKey()).containsExactly(expected);
            }
        }
    }
}
