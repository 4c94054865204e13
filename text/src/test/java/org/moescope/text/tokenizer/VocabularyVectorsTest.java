package org.moescope.text.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.moescope.format.gguf.GgufFile;
import org.moescope.testkit.SharedFiles;

/** llama.cpp's tokenizer test vectors (tests/test-tokenizer-0): every text encodes to its ids, without BOS and without parsing specials. */
class VocabularyVectorsTest {
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    record Case(String text, int[] ids) {}

    static List<Case> cases(Path inp, Path out) throws IOException {
        String raw = Files.readString(inp, StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>();
        for (int pos = 0; pos < raw.length(); ) {
            int next = raw.indexOf(SEPARATOR, pos);
            if (next < 0) {
                texts.add(raw.substring(pos));
                break;
            }
            texts.add(raw.substring(pos, next));
            pos = next + SEPARATOR.length();
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertThat(lines).hasSameSizeAs(texts);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String line = lines.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(texts.get(i), ids));
        }
        return cases;
    }

    static void check(Tokenizer tokenizer, List<Case> cases, String name) {
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            int[] actual = tokenizer.encode(c.text(), false, false);
            if (!Arrays.equals(actual, c.ids())) {
                failures.add("text " + quote(c.text()) + "\n  expected " + Arrays.toString(c.ids()) + "\n  actual   " + Arrays.toString(actual));
            }
        }
        System.out.printf("VECTORS %s: %d/%d pass%n", name, cases.size() - failures.size(), cases.size());
        assertThat(failures).as("%s: %d of %d vectors fail", name, failures.size(), cases.size()).isEmpty();
    }

    static String quote(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt-2", "deepseek-coder", "deepseek-llm", "falcon", "starcoder", "llama-spm", "phi-3"})
    void ggufVocabularyPassesEveryVector(String name) throws IOException {
        Path dir = SharedFiles.require("fixtures/tokenizers/llama-cpp-vocab");
        Path gguf = dir.resolve("ggml-vocab-" + name + ".gguf");
        try (GgufFile file = GgufFile.open(gguf)) {
            Tokenizer t = Tokenizers.fromGguf(gguf, file.metadata());
            check(t, cases(dir.resolve(gguf.getFileName() + ".inp"), dir.resolve(gguf.getFileName() + ".out")), name);
        }
    }

    @org.junit.jupiter.api.Test
    void qwen2VectorsPassWithQwen3TokenizerJson() throws IOException {
        Path dir = SharedFiles.require("fixtures/tokenizers/llama-cpp-vocab");
        Tokenizer t = Tokenizers.fromHuggingFaceFolder(SharedFiles.require("fixtures/tokenizers/hf/qwen3"));
        check(t, cases(dir.resolve("ggml-vocab-qwen2.gguf.inp"), dir.resolve("ggml-vocab-qwen2.gguf.out")), "qwen2 (hf/qwen3)");
    }
}
