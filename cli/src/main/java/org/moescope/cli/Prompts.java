package org.moescope.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Prompt files: JSON lines with a "prompt" (or "text") field, or a JSON string per line. */
final class Prompts {
    private Prompts() {}

    static List<String> read(Path file) {
        if (!Files.isRegularFile(file)) throw new UserException(file + ": no such file");
        List<String> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try {
            int line = 0;
            for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                line++;
                if (l.isBlank()) continue;
                JsonNode n;
                try {
                    n = json.readTree(l);
                } catch (IOException e) {
                    throw new UserException(file + ": line " + line + " is not JSON");
                }
                if (n.isTextual()) out.add(n.asText());
                else if (n.path("prompt").isTextual()) out.add(n.get("prompt").asText());
                else if (n.path("text").isTextual()) out.add(n.get("text").asText());
                else throw new UserException(file + ": line " + line + " has no \"prompt\" or \"text\" string");
            }
        } catch (IOException e) {
            throw new UserException(file + ": " + e.getMessage());
        }
        if (out.isEmpty()) throw new UserException(file + ": no prompts");
        return out;
    }
}
