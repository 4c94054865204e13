package org.moescope.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

import com.sun.net.httpserver.HttpExchange;

/** The web explorer's static files, served from the jar (no network needed at runtime). */
final class WebAssets {
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8", "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8", "svg", "image/svg+xml", "json", "application/json", "png", "image/png");

    private WebAssets() {}

    static void serve(HttpExchange exchange, String path) throws IOException {
        String file = path.equals("/") ? "index.html" : path.substring(1);
        if (file.contains("..") || file.contains("//") || !file.matches("[A-Za-z0-9._/-]+")) {
            throw new ApiException(404, "invalid_request_error", null, "not_found", "no such file");
        }
        try (InputStream in = WebAssets.class.getResourceAsStream("web/" + file)) {
            if (in == null) throw new ApiException(404, "invalid_request_error", null, "not_found", "no such file: " + path);
            byte[] bytes = in.readAllBytes();
            String ext = file.substring(file.lastIndexOf('.') + 1);
            exchange.getResponseHeaders().set("Content-Type", TYPES.getOrDefault(ext, "application/octet-stream"));
            exchange.getResponseHeaders().set("Cache-Control", "no-cache");
            exchange.sendResponseHeaders(200, bytes.length);
            try (var out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
