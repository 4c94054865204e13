package org.moescope.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.study.Data;

/** Prompt files: JSON lines with a "prompt" (or "text") field, or a JSON string per line. */
final class Prompts {
    private Prompts() {}

    static List<String> read(Path file) {
        if (!Files.isRegularFile(file)) throw new UserException(file + ": no such file");
        List<JsonNode> rows;
        try {
            rows = Data.read(file);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage());
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            JsonNode n = rows.get(i);
            if (n.isTextual()) out.add(n.asText());
            else if (n.path("prompt").isTextual()) out.add(n.get("prompt").asText());
            else if (n.path("text").isTextual()) out.add(n.get("text").asText());
            else throw new UserException(file + ": record " + (i + 1) + " has no \"prompt\" or \"text\" string");
        }
        return out;
    }
}
