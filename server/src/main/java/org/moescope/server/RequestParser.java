package org.moescope.server;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.runtime.SamplingOptions;

/**
 * Reads an OpenAI request body into an {@link Engine.Request}. Fields other servers send and
 * moescope does not use are ignored; fields moescope uses are checked, and a bad one is a 400
 * naming it ({@code messages[2].role}, {@code moescope.profile}).
 */
public final class RequestParser {
    /** A parsed request and how to answer it. */
    public record Parsed(Engine.Request request, boolean stream, boolean usageInStream) {}

    private final Limits limits;
    private final ProfileDirectory profiles;

    public RequestParser(Limits limits, ProfileDirectory profiles) {
        this.limits = limits;
        this.profiles = profiles;
    }

    /** @param chat a /v1/chat/completions body (messages) rather than /v1/completions (prompt) */
    public Parsed parse(byte[] body, boolean chat) {
        JsonNode root = json(body);
        Engine.Request request = request(root, chat);
        boolean stream = booleanField(root, "stream", false);
        JsonNode options = root.get("stream_options");
        if (options != null && !options.isNull() && !options.isObject()) throw ApiException.invalid("stream_options", "'stream_options' must be an object");
        boolean usage = options != null && options.isObject() && booleanField(options, "include_usage", false);
        return new Parsed(request, stream, usage);
    }

    private static JsonNode json(byte[] body) {
        try {
            JsonNode node = Server.JSON.readTree(body);
            if (node == null || !node.isObject()) throw ApiException.invalid(null, "the request body must be a JSON object");
            return node;
        } catch (IOException e) {
            throw ApiException.invalid(null, "the request body is not valid JSON");
        }
    }

    private Engine.Request request(JsonNode body, boolean chat) {
        List<Map<String, Object>> messages = null;
        String prompt = null;
        if (chat) {
            messages = messages(body.get("messages"));
        } else {
            JsonNode p = body.get("prompt");
            if (p == null || p.isNull()) throw ApiException.invalid("prompt", "'prompt' is required");
            if (p.isArray()) {
                if (p.size() != 1 || !p.get(0).isTextual()) throw ApiException.invalid("prompt", "'prompt' must be a string (or an array of one string)");
                p = p.get(0);
            }
            if (!p.isTextual()) throw ApiException.invalid("prompt", "'prompt' must be a string");
            prompt = p.asText();
        }
        int n = intField(body, "n", 1, 1, 1);
        if (n != 1) throw ApiException.invalid("n", "only n = 1 is supported");
        int defaultMax = Math.min(256, limits.maxTokens());
        int maxTokens = body.has("max_completion_tokens") && !body.get("max_completion_tokens").isNull()
                ? intField(body, "max_completion_tokens", defaultMax, 1, limits.maxTokens())
                : intField(body, "max_tokens", defaultMax, 1, limits.maxTokens());
        float temperature = (float) numberField(body, "temperature", 1.0, 0, 2);
        float topP = (float) numberField(body, "top_p", 1.0, 0, 1);
        if (topP == 0) topP = Float.MIN_VALUE;
        long seed = body.has("seed") && !body.get("seed").isNull() ? longField(body, "seed") : System.nanoTime();
        SamplingOptions sampling = new SamplingOptions(temperature, 0, topP, 0, 1, 64, seed);
        List<String> stop = stop(body.get("stop"));
        JsonNode extension = body.get("moescope");
        JsonNode profile = null;
        boolean routing = false;
        if (extension != null && !extension.isNull()) {
            if (!extension.isObject()) throw ApiException.invalid("moescope", "'moescope' must be an object");
            JsonNode p = extension.get("profile");
            if (p != null && !p.isNull()) {
                if (p.isTextual()) profile = profiles.load(p.asText());
                else if (p.isObject()) profile = p;
                else throw ApiException.invalid("moescope.profile", "'moescope.profile' must be a profile object or a profile name");
            }
            JsonNode r = extension.get("return_routing");
            if (r != null && !r.isNull()) {
                if (!r.isBoolean()) throw ApiException.invalid("moescope.return_routing", "'moescope.return_routing' must be true or false");
                routing = r.asBoolean();
            }
        }
        long deadline = System.nanoTime() + limits.requestTimeout().toNanos();
        return new Engine.Request(messages, prompt, maxTokens, sampling, stop, profile, routing, deadline);
    }

    private static List<Map<String, Object>> messages(JsonNode node) {
        if (node == null || node.isNull()) throw ApiException.invalid("messages", "'messages' is required");
        if (!node.isArray() || node.isEmpty()) throw ApiException.invalid("messages", "'messages' must be a non-empty array");
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw ApiException.invalid(where, "'" + where + "' must be an object");
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) throw ApiException.invalid(where + ".role", "'" + where + ".role' must be a string");
            String r = role.asText();
            if (!List.of("system", "developer", "user", "assistant", "tool").contains(r)) {
                throw ApiException.invalid(where + ".role", "'" + where + ".role' must be system, user, assistant or tool, not '" + r + "'");
            }
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", r.equals("developer") ? "system" : r);
            message.put("content", content(m.get("content"), where + ".content"));
            out.add(message);
        }
        return out;
    }

    /** A string, or OpenAI's array of parts of which the text parts are joined. */
    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.size(); i++) {
                JsonNode part = c.get(i);
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.invalid(where + "[" + i + "]", "only text parts are supported in '" + where + "'");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiException.invalid(where, "'" + where + "' must be a string or an array of text parts");
    }

    private static List<String> stop(JsonNode node) {
        List<String> stop = new ArrayList<>();
        if (node == null || node.isNull()) return stop;
        if (node.isTextual()) {
            stop.add(node.asText());
        } else if (node.isArray()) {
            if (node.size() > 4) throw ApiException.invalid("stop", "at most 4 stop sequences");
            for (int i = 0; i < node.size(); i++) {
                if (!node.get(i).isTextual()) throw ApiException.invalid("stop[" + i + "]", "'stop' entries must be strings");
                stop.add(node.get(i).asText());
            }
        } else {
            throw ApiException.invalid("stop", "'stop' must be a string or an array of strings");
        }
        stop.removeIf(String::isEmpty);
        return stop;
    }

    private static boolean booleanField(JsonNode body, String name, boolean fallback) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) return fallback;
        if (!n.isBoolean()) throw ApiException.invalid(name, "'" + name + "' must be true or false");
        return n.asBoolean();
    }

    private static int intField(JsonNode body, String name, int fallback, int min, int max) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) return fallback;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw ApiException.invalid(name, "'" + name + "' must be an integer");
        int v = n.asInt();
        if (v < min || v > max) throw ApiException.invalid(name, "'" + name + "' must be between " + min + " and " + max + ", not " + v);
        return v;
    }

    private static long longField(JsonNode body, String name) {
        JsonNode n = body.get(name);
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw ApiException.invalid(name, "'" + name + "' must be an integer");
        return n.asLong();
    }

    private static double numberField(JsonNode body, String name, double fallback, double min, double max) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber()) throw ApiException.invalid(name, "'" + name + "' must be a number");
        double v = n.asDouble();
        if (!(v >= min && v <= max)) throw ApiException.invalid(name, "'" + name + "' must be between " + min + " and " + max + ", not " + v);
        return v;
    }
}
