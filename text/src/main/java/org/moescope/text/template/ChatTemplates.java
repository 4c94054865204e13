package org.moescope.text.template;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.moescope.format.FormatException;
import org.moescope.format.gguf.GgufMetadata;

/** Finds a model's chat template and the BOS/EOS strings it refers to. */
public final class ChatTemplates {
    private ChatTemplates() {}

    /** A template's text and the special-token strings it is rendered with. */
    public record Source(String text, String bosToken, String eosToken) {
        public ChatTemplate compile() { return ChatTemplate.compile(text); }

        /** Renders a conversation with this model's BOS/EOS strings plus {@code extra} variables. */
        public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
            Map<String, Object> variables = new java.util.LinkedHashMap<>();
            variables.put("bos_token", bosToken == null ? "" : bosToken);
            variables.put("eos_token", eosToken == null ? "" : eosToken);
            variables.putAll(extra);
            return compile().render(messages, addGenerationPrompt, variables);
        }
    }

    /** chat_template.jinja, else tokenizer_config.json's chat_template (a string, or a list of {name, template}: "default"). */
    public static Optional<Source> fromHuggingFaceFolder(Path folder) {
        Path configFile = folder.resolve("tokenizer_config.json");
        JsonNode config = null;
        if (Files.isRegularFile(configFile)) {
            try {
                config = new ObjectMapper().readTree(configFile.toFile());
            } catch (IOException e) {
                throw new FormatException(configFile, "malformed JSON: " + e.getMessage(), e);
            }
        }
        String text = null;
        Path jinja = folder.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                text = Files.readString(jinja, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new FormatException(jinja, "cannot read: " + e.getMessage(), e);
            }
        } else if (config != null && config.has("chat_template")) {
            JsonNode t = config.get("chat_template");
            if (t.isTextual()) {
                text = t.asText();
            } else if (t.isArray()) {
                for (JsonNode named : t) if ("default".equals(named.path("name").asText())) text = named.path("template").asText(null);
                if (text == null && !t.isEmpty()) text = t.get(0).path("template").asText(null);
            } else {
                throw new FormatException(configFile, "field 'chat_template' is neither a string nor a list of named templates");
            }
        }
        if (text == null) return Optional.empty();
        return Optional.of(new Source(text, tokenText(config, "bos_token"), tokenText(config, "eos_token")));
    }

    private static String tokenText(JsonNode config, String field) {
        if (config == null) return null;
        JsonNode n = config.path(field);
        return n.isTextual() ? n.asText() : n.path("content").asText(null);
    }

    /** tokenizer.chat_template, with BOS/EOS strings from the token list. */
    public static Optional<Source> fromGgufMetadata(GgufMetadata metadata) {
        Optional<String> text = metadata.getString("tokenizer.chat_template");
        if (text.isEmpty()) return Optional.empty();
        String[] tokens = metadata.getStrings("tokenizer.ggml.tokens").orElse(new String[0]);
        int bos = metadata.getInt("tokenizer.ggml.bos_token_id", -1);
        int eos = metadata.getInt("tokenizer.ggml.eos_token_id", -1);
        return Optional.of(new Source(text.get(), bos >= 0 && bos < tokens.length ? tokens[bos] : null,
                eos >= 0 && eos < tokens.length ? tokens[eos] : null));
    }
}
