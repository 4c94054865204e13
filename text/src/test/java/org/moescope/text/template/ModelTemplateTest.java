package org.moescope.text.template;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.moescope.format.gguf.GgufFile;
import org.moescope.testkit.SharedFiles;
import org.moescope.text.tokenizer.Tokenizer;
import org.moescope.text.tokenizer.Tokenizers;

/** The trained models' templates, from the HF folder and from the GGUF: render + encode = golden chat/think ids. */
class ModelTemplateTest {
    @ParameterizedTest(name = "{0} gguf={1}")
    @CsvSource({"mini-moe, false", "mini-moe, true", "micro-moe, false", "micro-moe, true"})
    void chatCasesRenderAndEncodeToGoldenIds(String model, boolean gguf) throws Exception {
        Path dir = SharedFiles.require("models/" + model);
        ChatTemplates.Source template;
        Tokenizer tokenizer;
        if (gguf) {
            Path file = dir.resolve(model + "-q8_0.gguf");
            try (GgufFile g = GgufFile.open(file)) {
                template = ChatTemplates.fromGgufMetadata(g.metadata()).orElseThrow();
                tokenizer = Tokenizers.fromGguf(file, g.metadata());
            }
        } else {
            template = ChatTemplates.fromHuggingFaceFolder(dir.resolve("hf")).orElseThrow();
            tokenizer = Tokenizers.fromHuggingFaceFolder(dir.resolve("hf"));
        }
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("golden.json").toFile()).get("cases");
        for (String[] c : new String[][] {{"chat", "What does the word \"bank\" mean?"}, {"think", "What is 37 + 48?"}}) {
            String rendered = template.render(List.of(Map.of("role", "user", "content", c[1])), true, Map.of());
            int[] ids = tokenizer.encode(rendered, false, true);
            int[] expected = new ObjectMapper().convertValue(cases.get(c[0]).get("input_ids"), int[].class);
            assertThat(ids).as("%s %s", model, c[0]).containsExactly(expected);
        }
    }
}
