package org.moescope.study;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** JSON-lines data sets (shared/data formats), with errors naming the file, line and field. */
public final class Data {
    private Data() {}

    public static List<JsonNode> read(Path file, String... requiredFields) {
        if (file == null || !Files.isRegularFile(file)) throw new IllegalArgumentException("data file " + file + " does not exist");
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> rows = new ArrayList<>();
        try {
            int line = 0;
            for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                line++;
                if (l.isBlank()) continue;
                JsonNode n;
                try {
                    n = json.readTree(l);
                } catch (IOException e) {
                    throw new IllegalArgumentException(file + ": line " + line + " is not JSON");
                }
                for (String f : requiredFields) {
                    if (!n.has(f)) throw new IllegalArgumentException(file + ": line " + line + " has no field '" + f + "'");
                }
                rows.add(n);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(file + " holds no records");
        return rows;
    }
}
