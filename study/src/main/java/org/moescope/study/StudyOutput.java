package org.moescope.study;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.moescope.study.stats.Figure;

/**
 * A study's summary.json: what was run (study, model and data with SHA-256, parameters), the
 * profiles applied, and the figures — each with its 95% interval, n and method — plus controls
 * and free-form tables.
 */
public final class StudyOutput {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final ObjectNode root = JSON.createObjectNode();
    private final ObjectNode figures, controls, tables, parameters;
    private final ArrayNode profiles;

    public StudyOutput(String study, Path model, Path data) {
        root.put("study", study);
        root.put("moescope", "0.1.0");
        root.put("created", Instant.now().toString());
        ObjectNode m = root.putObject("model");
        m.put("path", model.toString());
        m.put("sha256", sha256(model));
        if (data != null) {
            ObjectNode d = root.putObject("data");
            d.put("path", data.toString());
            d.put("sha256", sha256(data));
        }
        parameters = root.putObject("parameters");
        profiles = root.putArray("profiles");
        figures = root.putObject("figures");
        controls = root.putObject("controls");
        tables = root.putObject("tables");
    }

    public StudyOutput parameter(String name, Object value) {
        parameters.set(name, JSON.valueToTree(value));
        return this;
    }

    public StudyOutput profile(String role, JsonNode profile) {
        ObjectNode p = profiles.addObject();
        p.put("role", role);
        p.set("profile", profile);
        return this;
    }

    public StudyOutput figure(String name, Figure f) {
        figures.set(name, node(f));
        return this;
    }

    public StudyOutput control(String name, Figure f) {
        controls.set(name, node(f));
        return this;
    }

    public StudyOutput value(String name, Object value) {
        figures.set(name, JSON.valueToTree(value));
        return this;
    }

    public StudyOutput table(String name, List<Map<String, Object>> rows) {
        tables.set(name, JSON.valueToTree(rows));
        return this;
    }

    private static ObjectNode node(Figure f) {
        ObjectNode n = JSON.createObjectNode();
        n.put("value", f.value());
        n.put("ci_low", f.low());
        n.put("ci_high", f.high());
        n.put("n", f.n());
        n.put("method", f.method());
        return n;
    }

    public JsonNode json() { return root; }

    public void write(Path file) {
        try {
            JSON.writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** SHA-256 of a file, or of a folder's files in name order. */
    public static String sha256(Path path) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            List<Path> files;
            if (Files.isDirectory(path)) {
                try (var s = Files.list(path)) {
                    files = s.filter(Files::isRegularFile).sorted().toList();
                }
            } else {
                files = List.of(path);
            }
            byte[] buffer = new byte[1 << 20];
            for (Path f : files) {
                try (InputStream in = Files.newInputStream(f)) {
                    for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot hash " + path + ": " + e.getMessage(), e);
        }
    }

    static Map<String, Object> row(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) m.put((String) keyValues[i], keyValues[i + 1]);
        return m;
    }
}
