package org.moescope.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

import org.moescope.model.config.ModelConfig;

/**
 * The web explorer's own JSON routes under {@code /api}: the model's shape and the named profiles
 * ({@code GET /api/model}), a named profile's JSON ({@code GET /api/profile?name=N}), and, when the server was given a trace store ({@code --traces}), the
 * tokens an expert fires on most ({@code GET /api/expert?layer=L&expert=E}) and the load of every
 * expert per layer ({@code GET /api/load}).
 */
final class ExplorerRoutes implements AutoCloseable {
    private final Engine engine;
    private final ModelConfig config;
    private final ProfileDirectory profiles;
    private final Connection traces;

    ExplorerRoutes(Engine engine, ProfileDirectory profiles, Path traceStore) throws IOException {
        this.engine = engine;
        this.config = engine.config();
        this.profiles = profiles;
        if (traceStore == null) {
            traces = null;
        } else {
            if (!Files.isRegularFile(traceStore)) throw new IOException("trace store " + traceStore + " does not exist");
            try {
                Properties p = new Properties();
                p.setProperty("duckdb.read_only", "true");
                traces = DriverManager.getConnection("jdbc:duckdb:" + traceStore.toAbsolutePath(), p);
            } catch (SQLException e) {
                throw new IOException("cannot open trace store " + traceStore + ": " + e.getMessage(), e);
            }
        }
    }

    void handle(HttpExchange exchange, String path, String method) throws IOException {
        if (!method.equals("GET")) throw new ApiException(405, "invalid_request_error", null, "method_not_allowed", "use GET");
        Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
        switch (path) {
            case "/api/model" -> Server.sendJson(exchange, 200, model());
            case "/api/expert" -> Server.sendJson(exchange, 200, expert(intParam(query, "layer", config.layerCount() - 1),
                    intParam(query, "expert", config.isMoe() ? config.moe().experts() - 1 : 0)));
            case "/api/load" -> Server.sendJson(exchange, 200, load());
            case "/api/profile" -> {
                String name = query.get("name");
                if (name == null) throw ApiException.invalid("name", "'name' is required");
                Server.sendJson(exchange, 200, profiles.load(name));
            }
            default -> throw new ApiException(404, "invalid_request_error", null, "not_found", "no route GET " + path);
        }
    }

    private ObjectNode model() {
        ObjectNode m = Server.JSON.createObjectNode().put("id", engine.modelId()).put("architecture", config.architecture())
                .put("layers", config.layerCount()).put("context", engine.contextLength()).put("traces", traces != null);
        if (config.isMoe()) {
            m.put("experts", config.moe().experts()).put("top_k", config.moe().expertsPerToken());
            ArrayNode moeLayers = m.putArray("moe_layers");
            for (int l = 0; l < config.layerCount(); l++) if (config.isMoeLayer(l)) moeLayers.add(l);
        }
        ArrayNode names = m.putArray("profiles");
        if (profiles.folder() != null) {
            try (Stream<Path> files = Files.list(profiles.folder())) {
                files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".json")).sorted()
                        .forEach(n -> names.add(n.substring(0, n.length() - 5)));
            } catch (IOException e) {
                // an unreadable folder lists no profiles
            }
        }
        return m;
    }

    private ObjectNode expert(int layer, int expert) {
        requireTraces();
        ObjectNode out = Server.JSON.createObjectNode().put("layer", layer).put("expert", expert);
        ArrayNode tokens = out.putArray("tokens");
        synchronized (traces) {
            try (PreparedStatement s = traces.prepareStatement("SELECT t.piece, count(*) AS n, avg(r.weight) AS w FROM routing r "
                    + "JOIN tokens t ON t.run = r.run AND t.seq = r.seq AND t.pos = r.pos WHERE r.layer = ? AND r.expert = ? "
                    + "GROUP BY t.piece ORDER BY n DESC, t.piece LIMIT 40")) {
                s.setInt(1, layer);
                s.setInt(2, expert);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) tokens.addObject().put("piece", r.getString(1)).put("count", r.getLong(2)).put("mean_weight", r.getDouble(3));
                }
            } catch (SQLException e) {
                throw new ApiException(500, "server_error", null, null, "trace store query failed: " + e.getMessage());
            }
        }
        return out;
    }

    private ObjectNode load() {
        requireTraces();
        ObjectNode out = Server.JSON.createObjectNode();
        ArrayNode rows = out.putArray("load");
        synchronized (traces) {
            try (PreparedStatement s = traces.prepareStatement("SELECT layer, expert, count(*) FROM routing GROUP BY layer, expert ORDER BY layer, expert");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) rows.addObject().put("layer", r.getInt(1)).put("expert", r.getInt(2)).put("count", r.getLong(3));
            } catch (SQLException e) {
                throw new ApiException(500, "server_error", null, null, "trace store query failed: " + e.getMessage());
            }
        }
        return out;
    }

    private void requireTraces() {
        if (traces == null) throw new ApiException(404, "invalid_request_error", null, "no_trace_store", "the server was started without --traces");
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new java.util.HashMap<>();
        if (raw == null) return out;
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) out.put(pair.substring(0, eq), java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8));
        }
        return out;
    }

    private static int intParam(Map<String, String> query, String name, int max) {
        String v = query.get(name);
        if (v == null) throw ApiException.invalid(name, "'" + name + "' is required");
        try {
            int i = Integer.parseInt(v);
            if (i < 0 || i > max) throw ApiException.invalid(name, "'" + name + "' must be between 0 and " + max);
            return i;
        } catch (NumberFormatException e) {
            throw ApiException.invalid(name, "'" + name + "' must be an integer");
        }
    }

    @Override
    public void close() {
        if (traces != null) {
            try {
                traces.close();
            } catch (SQLException ignored) {
                // closing a read-only connection cannot lose anything
            }
        }
    }
}
