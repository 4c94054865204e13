package org.moescope.text.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.moescope.format.gguf.GgufFile;
import org.moescope.testkit.SharedFiles;

/** The trained models' tokenizers, from the HF folder and from the GGUF, against golden.json. */
class ModelTokenizerTest {
    static Tokenizer load(String model, boolean gguf) {
        Path dir = SharedFiles.require("models/" + model);
        if (!gguf) return Tokenizers.fromHuggingFaceFolder(dir.resolve("hf"));
        Path file = dir.resolve(model + "-q8_0.gguf");
        try (GgufFile g = GgufFile.open(file)) {
            return Tokenizers.fromGguf(file, g.metadata());
        }
    }

    static int[] ids(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    static Stream<Object[]> sources() {
        return Stream.of(new Object[] {"mini-moe", false}, new Object[] {"mini-moe", true}, new Object[] {"micro-moe", false},
                new Object[] {"micro-moe", true});
    }

    @ParameterizedTest(name = "{0} gguf={1}")
    @MethodSource("sources")
    void goldenCasesEncodeToTheirIds(String model, boolean gguf) throws IOException {
        Tokenizer t = load(model, gguf);
        JsonNode cases = new ObjectMapper().readTree(SharedFiles.require("models/" + model + "/golden.json").toFile()).get("cases");
        // the text case: its text is what its ids decode to; encoding it must give them back
        int[] text = ids(cases.get("text").get("input_ids"));
        assertThat(t.encode(t.decode(text), false, true)).containsExactly(text);
        // chat and think: the ChatML render of the user message (the model's template) encodes to the golden ids
        String chat = "<|im_start|>user\nWhat does the word \"bank\" mean?<|im_end|>\n<|im_start|>assistant\n";
        assertThat(t.encode(chat, false, true)).containsExactly(ids(cases.get("chat").get("input_ids")));
        String think = "<|im_start|>user\nWhat is 37 + 48?<|im_end|>\n<|im_start|>assistant\n";
        assertThat(t.encode(think, false, true)).containsExactly(ids(cases.get("think").get("input_ids")));
        // greedy outputs decode to the golden text
        for (String c : List.of("chat", "text", "think")) {
            JsonNode cs = cases.get(c);
            int[] all = ids(cs.get("greedy_output"));
            int[] generated = java.util.Arrays.copyOfRange(all, cs.get("input_ids").size(), all.length);
            assertThat(t.decode(generated)).isEqualTo(cs.get("greedy_text").asText());
        }
        assertThat(t.endOfGeneration()).contains(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3_moe", "qwen2_moe", "olmoe", "mixtral", "deepseek_v2", "deepseek_v3", "gpt_oss", "granitemoe", "glm4_moe",
            "llama", "qwen3"})
    void architectureFixtureTokenizersLoadAndRoundTrip(String arch) {
        Tokenizer t = Tokenizers.fromHuggingFaceFolder(SharedFiles.require("fixtures/arch/" + arch + "/hf"));
        String text = "The bank of the river, 1234 times!";
        assertThat(t.decode(t.encode(text, false, false))).isEqualTo(text);
        assertThat(t.vocabularySize()).isEqualTo(512);
    }

    @Test
    void deepseekV3RoundTripsTheVectorTexts() throws IOException {
        Tokenizer t = Tokenizers.fromHuggingFaceFolder(SharedFiles.require("fixtures/tokenizers/hf/deepseek-v3"));
        Path dir = SharedFiles.require("fixtures/tokenizers/llama-cpp-vocab");
        int n = 0;
        for (Path inp : Files.list(dir).filter(p -> p.toString().endsWith(".inp")).toList()) {
            for (var c : VocabularyVectorsTest.cases(inp, Path.of(inp.toString().replace(".inp", ".out")))) {
                int[] ids = t.encode(c.text(), false, false);
                assertThat(t.decode(ids)).as(VocabularyVectorsTest.quote(c.text())).isEqualTo(c.text());
                n++;
            }
        }
        assertThat(n).isGreaterThan(300);
    }
}
