package org.moescope.server;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

import org.moescope.runtime.SamplingOptions;

/**
 * OpenAI's routes (GET /v1/models, POST /v1/chat/completions, POST /v1/completions), streaming
 * (server-sent events ending with {@code data: [DONE]}) and not, plus the {@code moescope}
 * extension: {@code {"profile": {...} | "name", "return_routing": true}}. Fields other servers send
 * and moescope does not use are ignored; fields moescope uses are checked and a bad one is a 400
 * naming it.
 */
final class OpenAiRoutes {
    private final Server server;
    private final Engine engine;
    private final Limits limits;
    private final ProfileDirectory profiles;
    private final long created = System.currentTimeMillis() / 1000;

    OpenAiRoutes(Server server, Engine engine, Limits limits, ProfileDirectory profiles) {
        this.server = server;
        this.engine = engine;
        this.limits = limits;
        this.profiles = profiles;
    }

    void handle(HttpExchange exchange, String path, String method) throws IOException {
        switch (path) {
            case "/v1/models" -> {
                requireMethod(method, "GET");
                ObjectNode root = Server.JSON.createObjectNode().put("object", "list");
                root.putArray("data").addObject().put("id", engine.modelId()).put("object", "model").put("created", created)
                        .put("owned_by", "moescope");
                Server.sendJson(exchange, 200, root);
            }
            case "/v1/chat/completions" -> {
                requireMethod(method, "POST");
                complete(exchange, true);
            }
            case "/v1/completions" -> {
                requireMethod(method, "POST");
                complete(exchange, false);
            }
            default -> throw new ApiException(404, "invalid_request_error", null, "not_found", "no route " + method + " " + path);
        }
    }

    private static void requireMethod(String method, String expected) {
        if (!method.equals(expected)) throw new ApiException(405, "invalid_request_error", null, "method_not_allowed", "use " + expected);
    }

    private void complete(HttpExchange exchange, boolean chat) throws IOException {
        JsonNode body = parse(Server.readBody(exchange, limits.maxBodyBytes()));
        Engine.Request request = request(body, chat);
        boolean stream = booleanField(body, "stream", false);
        boolean usageInStream = body.path("stream_options").path("include_usage").asBoolean(false);
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        long now = System.currentTimeMillis() / 1000;
        try {
            server.inSlot(() -> {
                long start = System.nanoTime();
                Engine.Completion result;
                if (stream) {
                    result = streamCompletion(exchange, request, chat, id, now, usageInStream);
                } else {
                    result = engine.complete(request, delta -> true);
                    Server.sendJson(exchange, 200, response(result, chat, id, now, request.returnRouting()));
                }
                server.metrics.generationNanos.addAndGet(System.nanoTime() - start);
                server.metrics.promptTokens.addAndGet(result.promptTokens());
                server.metrics.completionTokens.addAndGet(result.completionTokens());
                return null;
            });
        } catch (ApiException | IOException e) {
            throw e;
        } catch (Exception e) {
            if (e instanceof RuntimeException r) throw r;
            throw new IOException(e);
        }
    }

    private Engine.Completion streamCompletion(HttpExchange exchange, Engine.Request request, boolean chat, String id, long now,
                                               boolean usageInStream) throws IOException {
        OutputStream out = exchange.getResponseBody();
        boolean[] open = {true};
        Engine.Completion result;
        try {
            result = engine.complete(request, new Engine.Sink() {
                @Override
                public void start() throws IOException {
                    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
                    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
                    exchange.sendResponseHeaders(200, 0);
                    if (chat) event(out, chunk(chat, id, now, delta -> delta.put("role", "assistant").put("content", ""), null), open);
                }

                @Override
                public boolean accept(String text) {
                    event(out, chunk(chat, id, now, delta -> delta.put(chat ? "content" : "text", text), null), open);
                    return open[0];
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        ObjectNode last = chunk(chat, id, now, delta -> {}, result.finishReason());
        if (request.returnRouting()) last.set("moescope", moescope(result));
        event(out, last, open);
        if (usageInStream) {
            ObjectNode usage = chunk(chat, id, now, delta -> {}, null);
            usage.putArray("choices");
            usage.set("usage", usage(result));
            event(out, usage, open);
        }
        if (open[0]) {
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        out.close();
        return result;
    }

    private static void event(OutputStream out, ObjectNode data, boolean[] open) {
        if (!open[0]) return;
        try {
            out.write(("data: " + Server.JSON.writeValueAsString(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            open[0] = false; // the client disconnected: generation stops at the next token
        }
    }

    private ObjectNode chunk(boolean chat, String id, long now, java.util.function.Consumer<ObjectNode> delta, String finish) {
        ObjectNode root = Server.JSON.createObjectNode().put("id", id).put("object", chat ? "chat.completion.chunk" : "text_completion")
                .put("created", now).put("model", engine.modelId());
        ObjectNode choice = root.putArray("choices").addObject().put("index", 0);
        if (chat) {
            delta.accept(choice.putObject("delta"));
        } else {
            ObjectNode holder = Server.JSON.createObjectNode();
            delta.accept(holder);
            choice.put("text", holder.path("text").asText(""));
            choice.putNull("logprobs");
        }
        if (finish == null) choice.putNull("finish_reason"); else choice.put("finish_reason", finish);
        return root;
    }

    private ObjectNode response(Engine.Completion result, boolean chat, String id, long now, boolean routing) {
        ObjectNode root = Server.JSON.createObjectNode().put("id", id).put("object", chat ? "chat.completion" : "text_completion")
                .put("created", now).put("model", engine.modelId());
        ObjectNode choice = root.putArray("choices").addObject().put("index", 0);
        if (chat) {
            choice.putObject("message").put("role", "assistant").put("content", result.text());
        } else {
            choice.put("text", result.text());
            choice.putNull("logprobs");
        }
        choice.put("finish_reason", result.finishReason());
        root.set("usage", usage(result));
        if (routing) root.set("moescope", moescope(result));
        return root;
    }

    private static ObjectNode usage(Engine.Completion r) {
        return Server.JSON.createObjectNode().put("prompt_tokens", r.promptTokens()).put("completion_tokens", r.completionTokens())
                .put("total_tokens", r.promptTokens() + r.completionTokens());
    }

    private static ObjectNode moescope(Engine.Completion r) {
        ObjectNode m = Server.JSON.createObjectNode();
        ArrayNode tokens = m.putArray("routing");
        if (r.routing() == null) return m;
        for (Engine.TokenRouting t : r.routing()) {
            ObjectNode token = tokens.addObject().put("token", t.token());
            ArrayNode layers = token.putArray("layers");
            for (int l = 0; l < t.experts().length; l++) {
                if (t.experts()[l] == null) continue;
                ObjectNode layer = layers.addObject().put("layer", l);
                ArrayNode experts = layer.putArray("experts");
                ArrayNode weights = layer.putArray("weights");
                for (int i = 0; i < t.experts()[l].length; i++) {
                    experts.add(t.experts()[l][i]);
                    weights.add(t.weights()[l][i]);
                }
            }
        }
        return m;
    }

    // ---------------------------------------------------------------- request parsing

    private static JsonNode parse(byte[] body) {
        try {
            JsonNode node = Server.JSON.readTree(body);
            if (node == null || !node.isObject()) throw ApiException.invalid(null, "the request body must be a JSON object");
            return node;
        } catch (IOException e) {
            throw ApiException.invalid(null, "the request body is not valid JSON");
        }
    }

    Engine.Request request(JsonNode body, boolean chat) {
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
