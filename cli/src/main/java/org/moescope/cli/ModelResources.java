package org.moescope.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import org.moescope.model.ModelFile;

/** Where a model's companions (tokenizer, chat template) are, and which model runs by default. */
final class ModelResources {
    private ModelResources() {}

    static boolean hasChatTemplate(ModelFile file) {
        if (file.ggufMetadata().isPresent()) return file.ggufMetadata().get().contains("tokenizer.chat_template");
        Path folder = file.huggingFaceFolder().orElseThrow();
        if (Files.exists(folder.resolve("chat_template.jinja"))) return true;
        try {
            Path config = folder.resolve("tokenizer_config.json");
            return Files.exists(config) && new com.fasterxml.jackson.databind.ObjectMapper().readTree(config.toFile()).has("chat_template");
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
