package org.moescope.runtime;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.moescope.format.FormatException;
import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.text.template.ChatTemplates;
import org.moescope.text.tokenizer.Tokenizer;
import org.moescope.text.tokenizer.Tokenizers;

/**
 * A model with its text side: the tokenizer and chat template found beside the weights (GGUF
 * metadata, or tokenizer.json and the template in the HF folder), and the transformer.
 */
public final class TextModel {
    private final ModelFile file;
    private final Transformer transformer;
    private final Tokenizer tokenizer;
    private final ChatTemplates.Source template;

    private TextModel(ModelFile file, Transformer transformer, Tokenizer tokenizer, ChatTemplates.Source template) {
        this.file = file;
        this.transformer = transformer;
        this.tokenizer = tokenizer;
        this.template = template;
    }

    public static TextModel open(ModelFile file) {
        Tokenizer tokenizer;
        ChatTemplates.Source template;
        if (file.ggufMetadata().isPresent()) {
            tokenizer = Tokenizers.fromGguf(file.path(), file.ggufMetadata().get());
            template = ChatTemplates.fromGgufMetadata(file.ggufMetadata().get()).orElse(null);
        } else {
            tokenizer = Tokenizers.fromHuggingFaceFolder(file.huggingFaceFolder().orElseThrow());
            template = ChatTemplates.fromHuggingFaceFolder(file.huggingFaceFolder().get()).orElse(null);
        }
        if (tokenizer.vocabularySize() > file.config().vocabularySize()) {
            throw new FormatException(file.path(), "the tokenizer has " + tokenizer.vocabularySize() + " tokens but the model only "
                    + file.config().vocabularySize());
        }
        return new TextModel(file, Transformer.of(file), tokenizer, template);
    }

    public ModelFile file() { return file; }

    public Transformer transformer() { return transformer; }

    public Tokenizer tokenizer() { return tokenizer; }

    public Optional<ChatTemplates.Source> chatTemplate() { return Optional.ofNullable(template); }

    /** Plain text as the model expects a prompt: its BOS rule applied, special tokens in the text recognised. */
    public int[] encodePrompt(String text) { return tokenizer.encode(text, true, true); }

    /** A conversation rendered through the chat template (with a generation prompt when asked) and encoded. */
    public int[] encodeChat(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> variables) {
        return tokenizer.encode(renderChat(messages, addGenerationPrompt, variables), false, true);
    }

    public String renderChat(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> variables) {
        if (template == null) throw new FormatException(file.path(), "the model has no chat template");
        return template.render(messages, addGenerationPrompt, variables);
    }

    /** A single user message (and an optional system message) as a chat prompt. */
    public int[] encodeUserMessage(String system, String user) {
        List<Map<String, Object>> messages = new java.util.ArrayList<>();
        if (system != null) messages.add(Map.of("role", "system", "content", system));
        messages.add(Map.of("role", "user", "content", user));
        return encodeChat(messages, true, Map.of());
    }
}
