package org.moescope.text.fuzz;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.moescope.format.FormatException;
import org.moescope.text.template.ChatTemplate;
import org.moescope.text.template.TemplateException;
import org.moescope.text.tokenizer.Tokenizer;
import org.moescope.text.tokenizer.Tokenizers;

/**
 * Coverage-guided fuzzing (Jazzer) of what a model file hands the text module: tokenizer.json and
 * chat templates with their messages. Any input must work or fail with the module's own error
 * (FormatException, TemplateException): never another exception, an OutOfMemoryError, a stack
 * overflow or a hang. Plain test runs replay the seeds in src/test/resources; JAZZER_FUZZ=1 fuzzes.
 */
class TextFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void tokenizerJsonFailsOnlyWithFormatErrors(byte[] input) throws IOException {
        Path dir = Files.createTempDirectory("fuzz-tokenizer");
        try {
            Files.write(dir.resolve("tokenizer.json"), input);
            Tokenizer t;
            try {
                t = Tokenizers.fromHuggingFaceFolder(dir);
            } catch (FormatException expected) {
                return;
            }
            int[] ids = t.encode("Hello, wörld! 123 <|im_start|>  \n\t😀", true, true);
            t.decode(ids);
        } finally {
            Files.deleteIfExists(dir.resolve("tokenizer.json"));
            Files.deleteIfExists(dir);
        }
    }

    /** The input is a template, a NUL byte, and a user message. */
    @FuzzTest(maxDuration = "10s")
    void chatTemplatesFailOnlyWithTemplateErrors(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        int cut = text.indexOf('\0');
        String source = cut < 0 ? text : text.substring(0, cut);
        String message = cut < 0 ? "hi" : text.substring(cut + 1);
        try {
            ChatTemplate template = ChatTemplate.compile(source);
            template.render(List.of(Map.of("role", "system", "content", "Be brief."), Map.of("role", "user", "content", message),
                    Map.of("role", "assistant", "content", message), Map.of("role", "user", "content", message)), true,
                    Map.of("bos_token", "<s>", "eos_token", "</s>", "enable_thinking", false));
        } catch (TemplateException expected) {
            // a clear error is the right answer to a bad template
        }
    }
}
