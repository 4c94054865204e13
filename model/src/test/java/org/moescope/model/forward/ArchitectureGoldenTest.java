package org.moescope.model.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
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
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.Hooks;
import org.moescope.testkit.SharedFiles;

/**
 * Every architecture fixture, from hf/ and from model-f32.gguf, against the float32 HF reference:
 * logits within 1e-3, hidden states and router logits within 1e-4 relative, and the greedy
 * continuation with the KV cache equal to golden.json's.
 */
class ArchitectureGoldenTest {
    static final List<String> ARCHITECTURES = List.of("qwen3_moe", "qwen2_moe", "olmoe", "mixtral", "deepseek_v2", "deepseek_v3",
            "gpt_oss", "granitemoe", "glm4_moe", "llama", "qwen3");

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String arch : ARCHITECTURES) {
            for (String source : new String[] {"hf", "model-f32.gguf"}) {
                for (String golden : new String[] {"short", "long"}) out.add(Arguments.of(arch, source, golden));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void forwardPassMatchesReference(String arch, String source, String golden) {
        Path fixture = SharedFiles.require("fixtures/arch/" + arch);
        Path model = fixture.resolve(source);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(model), arch + " has no " + source);
        try (ModelFile file = ModelFile.open(model); SafetensorsFile reference = SafetensorsFile.open(fixture.resolve("golden-" + golden + ".safetensors"))) {
            int[] ids = GoldenRun.inputIds(reference);
            GoldenRun run = new GoldenRun(file, ids);
            var logits = GoldenRun.compare(run.logits, GoldenRun.floats(reference, "logits"));
            System.out.printf("GOLDEN %s %s %s logits %s%n", arch, source, golden, logits.describe(run.vocabulary));
            assertThat(logits.maxAbs()).as("logits: %s", logits.describe(run.vocabulary)).isLessThan(1e-3);
            for (var t : reference.tensors()) {
                String name = t.name();
                if (!name.startsWith("hidden.") && !name.startsWith("router_logits.")) continue;
                float[] actual = run.captured.get(name);
                assertThat(actual).as("%s was not captured", name).isNotNull();
                var d = GoldenRun.compare(actual, GoldenRun.floats(reference, name));
                assertThat(d.relative()).as("%s: %s", name, d.describe((int) t.columns())).isLessThan(1e-4);
            }
        }
    }

    static Stream<Arguments> greedyCases() {
        List<Arguments> out = new ArrayList<>();
        for (String arch : ARCHITECTURES) for (String source : new String[] {"hf", "model-f32.gguf"}) out.add(Arguments.of(arch, source));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("greedyCases")
    void greedyContinuationWithCacheMatchesReference(String arch, String source) throws Exception {
        Path fixture = SharedFiles.require("fixtures/arch/" + arch);
        Path model = fixture.resolve(source);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(model), arch + " has no " + source);
        JsonNode cases = new ObjectMapper().readTree(fixture.resolve("golden.json").toFile()).get("cases");
        try (ModelFile file = ModelFile.open(model)) {
            for (var it = cases.fields(); it.hasNext(); ) {
                var c = it.next();
                if (!c.getValue().has("greedy_prompt")) continue;
                int[] prompt = ids(c.getValue().get("greedy_prompt"));
                int[] expected = ids(c.getValue().get("greedy_output"));
                int[] actual = greedy(file, prompt, expected.length);
                assertThat(actual).as("%s case %s", arch, c.getKey()).containsExactly(expected);
            }
        }
    }

    /** Prefill the prompt in one batch, then one token at a time through the cache, argmax each step. */
    static int[] greedy(ModelFile file, int[] prompt, int total) {
        Transformer transformer = Transformer.of(file);
        State state = transformer.newState(prompt.length, total + 1);
        int vocabulary = file.config().vocabularySize();
        float[] logits = new float[prompt.length * vocabulary];
        int[] sequence = java.util.Arrays.copyOf(prompt, total);
        Batch batch = new Batch();
        transformer.forward(state, batch.set(prompt, 0, prompt.length, 0, Batch.Phase.PROMPT), Hooks.NONE, logits, false);
        for (int i = prompt.length; i < total; i++) {
            int next = argmax(logits, vocabulary);
            sequence[i] = next;
            if (i + 1 < total) transformer.forward(state, batch.set(sequence, i, 1, i, Batch.Phase.GENERATED), Hooks.NONE, logits, false);
        }
        return sequence;
    }

    static int argmax(float[] values, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    static int[] ids(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }
}
