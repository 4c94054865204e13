package org.moescope.server;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;


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
    private final RequestParser parser;
    private final long created = System.currentTimeMillis() / 1000;

    OpenAiRoutes(Server server, Engine engine, Limits limits, ProfileDirectory profiles) {
        this.server = server;
        this.engine = engine;
        this.limits = limits;
        this.parser = new RequestParser(limits, profiles);
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
        RequestParser.Parsed parsed = parser.parse(Server.readBody(exchange, limits.maxBodyBytes()), chat);
        Engine.Request request = parsed.request();
        boolean stream = parsed.stream();
        boolean usageInStream = parsed.usageInStream();
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
}
