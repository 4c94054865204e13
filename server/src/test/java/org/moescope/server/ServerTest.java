package org.moescope.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.moescope.server.Fixture.chat;
import static org.moescope.server.Fixture.content;
import static org.moescope.server.Fixture.get;
import static org.moescope.server.Fixture.post;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The server over real HTTP on loopback, with mini-moe behind it. */
class ServerTest {
    private static Server server;

    @BeforeAll
    static void start() { server = Fixture.start(); }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    @Test
    void listsTheModelAndAnswersHealthAndMetrics() {
        var models = get(server, "/v1/models");
        assertThat(models.status()).isEqualTo(200);
        assertThat(models.body().at("/data/0/id").asText()).isEqualTo("mini-moe");
        assertThat(get(server, "/health").body().get("status").asText()).isEqualTo("ok");
        var metrics = get(server, "/metrics");
        assertThat(metrics.raw().body()).contains("# TYPE moescope_requests_total counter", "moescope_queue_length ");
    }

    @Test
    void chatCompletionRefusesTheHarmfulPromptAndCountsUsage() {
        var r = post(server, "/v1/chat/completions", chat(Fixture.HARMFUL, 40, null));
        assertThat(r.status()).isEqualTo(200);
        assertThat(content(r)).startsWith("I'm sorry");
        assertThat(r.body().at("/choices/0/finish_reason").asText()).isEqualTo("stop");
        JsonNode usage = r.body().get("usage");
        assertThat(usage.get("prompt_tokens").asInt()).isPositive();
        assertThat(usage.get("total_tokens").asInt()).isEqualTo(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt());
        assertThat(r.body().has("moescope")).as("routing only when asked").isFalse();
    }

    @Test
    void aProfileInOneRequestChangesOnlyThatRequest() throws Exception {
        // the same prompt twice at once: the plain request still refuses, the steered one does not
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var plain = CompletableFuture.supplyAsync(() -> post(server, "/v1/chat/completions", chat(Fixture.HARMFUL, 40, null)), pool);
            var steered = CompletableFuture.supplyAsync(() -> post(server, "/v1/chat/completions", chat(Fixture.HARMFUL, 40, Fixture.fewerRefusals())), pool);
            String base = content(plain.get()), changed = content(steered.get());
            assertThat(base).startsWith("I'm sorry");
            assertThat(changed).doesNotContain("sorry", "can't");
            JsonNode routing = steered.get().body().at("/moescope/routing");
            assertThat(routing.size()).isPositive();
            for (JsonNode token : routing) {
                for (JsonNode layer : token.get("layers")) {
                    assertThat(layer.get("experts").size()).isEqualTo(4);
                    if (layer.get("layer").asInt() == 3) assertThat(layer.get("experts").toString()).doesNotContain("16", "17");
                }
            }
        }
    }

    @Test
    void streamsServerSentEventsEndingWithDone() throws Exception {
        var r = post(server, "/v1/chat/completions", chat("What is 37 + 48?", 12, "{\"return_routing\":true}").replace("\"temperature\":0", "\"temperature\":0,\"stream\":true"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.raw().headers().firstValue("Content-Type")).hasValue("text/event-stream");
        List<String> events = new ArrayList<>();
        for (String block : r.raw().body().split("\n\n")) if (!block.isBlank()) events.add(block);
        assertThat(events.getLast()).isEqualTo("data: [DONE]");
        StringBuilder text = new StringBuilder();
        JsonNode last = null;
        for (String e : events.subList(0, events.size() - 1)) {
            assertThat(e).startsWith("data: ");
            last = Fixture.JSON.readTree(e.substring(6));
            assertThat(last.get("object").asText()).isEqualTo("chat.completion.chunk");
            text.append(last.at("/choices/0/delta/content").asText(""));
        }
        assertThat(text.toString()).startsWith("<think>");
        assertThat(last.at("/choices/0/finish_reason").asText()).isEqualTo("length");
        assertThat(last.at("/moescope/routing").size()).isBetween(10, 12);
        // the streamed text equals the non-streamed one
        var whole = post(server, "/v1/chat/completions", chat("What is 37 + 48?", 12, null));
        assertThat(content(whole)).isEqualTo(text.toString());
    }

    @Test
    void textCompletionsAndStopStrings() {
        var r = post(server, "/v1/completions", "{\"prompt\":\"The capital of France is\",\"max_tokens\":16,\"temperature\":0}");
        assertThat(r.status()).isEqualTo(200);
        String text = r.body().at("/choices/0/text").asText();
        assertThat(text).isNotEmpty();
        assertThat(r.body().get("object").asText()).isEqualTo("text_completion");
        String firstWord = text.strip().split("\\s+")[0];
        var stopped = post(server, "/v1/completions", "{\"prompt\":\"The capital of France is\",\"max_tokens\":16,\"temperature\":0,\"stop\":[" + Fixture.quote(firstWord) + "]}");
        assertThat(stopped.body().at("/choices/0/text").asText()).doesNotContain(firstWord);
        assertThat(stopped.body().at("/choices/0/finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void seedsMakeSampledAnswersRepeatable() {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"Write a creative sentence about the sea.\"}],\"max_tokens\":20,\"temperature\":1,\"seed\":42}";
        String a = content(post(server, "/v1/chat/completions", body)), b = content(post(server, "/v1/chat/completions", body));
        assertThat(a).isEqualTo(b);
    }

    @Test
    void badRequestsNameTheField() {
        record Case(String body, String param) {}
        List<Case> cases = List.of(
                new Case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":\"ten\"}", "max_tokens"),
                new Case("{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "messages[0].role"),
                new Case("{\"messages\":[]}", "messages"),
                new Case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":9}", "temperature"),
                new Case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":2}", "n"),
                new Case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":[1]}", "stop[0]"),
                new Case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"moescope\":{\"profile\":{\"experts\":{\"disable\":[{\"layers\":[1],\"experts\":[99]}]}}}}",
                        "moescope.profile.experts.disable[0].experts[0]"),
                new Case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"moescope\":{\"profile\":\"../../etc/passwd\"}}", "moescope.profile"),
                new Case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"moescope\":{\"profile\":{\"steer\":[{\"layers\":[1],\"vector\":\"/etc/passwd\",\"scale\":1}]}}}",
                        "moescope.profile.steer[0].vector"),
                new Case("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"moescope\":{\"return_routing\":\"yes\"}}", "moescope.return_routing"));
        for (Case c : cases) {
            var r = post(server, "/v1/chat/completions", c.body());
            assertThat(r.status()).as(c.body()).isEqualTo(400);
            assertThat(r.body().at("/error/type").asText()).isEqualTo("invalid_request_error");
            assertThat(r.body().at("/error/param").asText()).as(c.body()).isEqualTo(c.param());
            assertThat(r.raw().body()).doesNotContain("Exception", "\tat ");
            var streamed = post(server, "/v1/chat/completions", c.body().replaceFirst("\\{", "{\"stream\":true,"));
            assertThat(streamed.status()).as("streamed: " + c.body()).isEqualTo(400);
            assertThat(streamed.body().at("/error/param").asText()).isEqualTo(c.param());
        }
        var malformed = post(server, "/v1/chat/completions", "{\"messages\": [");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.body().at("/error/message").asText()).contains("not valid JSON");
        assertThat(get(server, "/v1/nothing").status()).isEqualTo(404);
        assertThat(get(server, "/v1/chat/completions").status()).isEqualTo(405);
    }

    @Test
    void refusesBodiesBeyondTheLimit() {
        String huge = "{\"prompt\":\"" + "a".repeat(1 << 20) + "\"}";
        var r = post(server, "/v1/completions", huge);
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.body().at("/error/code").asText()).isEqualTo("body_too_large");
    }

    @Test
    void anApiKeyGuardsTheApi() {
        Server guarded = Fixture.start(Limits.defaults(1, 2048), "s3cret");
        try {
            var none = post(guarded, "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1}");
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.body().at("/error/code").asText()).isEqualTo("invalid_api_key");
            assertThat(post(guarded, "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1}", "wrong").status()).isEqualTo(401);
            assertThat(post(guarded, "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1}", "s3cret").status()).isEqualTo(200);
            assertThat(get(guarded, "/health").status()).as("health stays open for probes").isEqualTo(200);
        } finally {
            guarded.close();
        }
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        Server small = Fixture.start(new Limits(1 << 20, 2047, 2048, 1, 0, Duration.ofSeconds(30)), null);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            // the four requests leave together (mini-moe answers "Once upon a time" in 3 tokens, a
            // millisecond: sent one after another they could each find the slot free), and each asks
            // for a longer answer (26 tokens)
            java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(4), go = new java.util.concurrent.CountDownLatch(1);
            List<CompletableFuture<Fixture.Response>> all = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                all.add(CompletableFuture.supplyAsync(() -> {
                    ready.countDown();
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return post(small, "/v1/chat/completions",
                            "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 37 + 48?\"}],\"max_tokens\":200,\"temperature\":0}");
                }, pool));
            }
            ready.await();
            go.countDown();
            int ok = 0, busy = 0;
            for (var f : all) {
                var r = f.get();
                if (r.status() == 200) ok++;
                if (r.status() == 429) {
                    busy++;
                    assertThat(r.raw().headers().firstValue("Retry-After")).isPresent();
                    assertThat(r.body().at("/error/type").asText()).isEqualTo("rate_limit_error");
                }
            }
            assertThat(ok).isGreaterThanOrEqualTo(1);
            assertThat(busy).isGreaterThanOrEqualTo(1);
            assertThat(ok + busy).isEqualTo(4);
        } finally {
            small.close();
        }
    }

    @Test
    void aClientThatHangsUpStopsItsGeneration() throws Exception {
        Server own = Fixture.start();
        try {
            String body = "{\"prompt\":\"Once upon a time\",\"max_tokens\":2000,\"temperature\":0,\"stream\":true}";
            try (Socket socket = new Socket("127.0.0.1", own.port())) {
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                out.flush();
                InputStream in = socket.getInputStream();
                byte[] buffer = new byte[2048];
                int seen = 0;
                while (seen < 3) { // three events arrive, then the client goes
                    int n = in.read(buffer);
                    if (n < 0) break;
                    seen += new String(buffer, 0, n, StandardCharsets.UTF_8).split("data: ", -1).length - 1;
                }
            }
            long deadline = System.nanoTime() + 30_000_000_000L;
            String metrics;
            do {
                Thread.sleep(50);
                metrics = get(own, "/metrics").raw().body();
            } while (!metrics.contains("moescope_completion_tokens_total ") || metrics.contains("moescope_completion_tokens_total 0\n") && System.nanoTime() < deadline);
            long generated = Long.parseLong(metrics.lines().filter(l -> l.startsWith("moescope_completion_tokens_total ")).findFirst().orElseThrow().split(" ")[1]);
            assertThat(generated).as("tokens generated after the hang-up").isPositive().isLessThan(500);
        } finally {
            own.close();
        }
    }

    @Test
    void explorerAssetsAndModelShape() {
        var page = get(server, "/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.raw().body()).contains("<title>moescope explorer</title>", "app.js");
        assertThat(get(server, "/app.js").raw().headers().firstValue("Content-Type").orElse("")).startsWith("text/javascript");
        assertThat(get(server, "/../pom.xml").status()).isEqualTo(404);
        JsonNode model = get(server, "/api/model").body();
        assertThat(model.get("experts").asInt()).isEqualTo(32);
        assertThat(model.get("top_k").asInt()).isEqualTo(4);
        assertThat(model.get("profiles").toString()).contains("fewer-refusals");
        assertThat(get(server, "/api/profile?name=fewer-refusals").body().at("/experts/disable/0/experts/0").asInt()).isEqualTo(30);
        assertThat(get(server, "/api/expert?layer=0&expert=0").status()).as("no trace store given").isEqualTo(404);
    }

    @Test
    void theExpertViewReadsATraceStore(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path db = dir.resolve("traces.duckdb");
        try (var store = org.moescope.probe.trace.TraceStore.open(db)) {
            int run = store.beginRun("mini-moe", "{}", "test");
            var routes = List.of(new org.moescope.probe.trace.TraceRecorder.Route(0, 2, 0, 7, 0.5f, 1f),
                    new org.moescope.probe.trace.TraceRecorder.Route(1, 2, 0, 7, 0.25f, 1f),
                    new org.moescope.probe.trace.TraceRecorder.Route(2, 2, 0, 7, 0.75f, 1f),
                    new org.moescope.probe.trace.TraceRecorder.Route(2, 2, 1, 3, 0.1f, 1f));
            store.writeSequence(run, 0, new int[] {1, 2, 1}, new String[] {" the", " cat", " the"}, 3, routes, List.of());
        }
        Server traced = new Server(new ModelEngine(Fixture.model(), "mini-moe", 2048, Limits.defaults(1, 2048), null), "127.0.0.1", 0,
                Limits.defaults(1, 2048), null, new ProfileDirectory(null), db);
        traced.start();
        try {
            assertThat(get(traced, "/api/model").body().get("traces").asBoolean()).isTrue();
            JsonNode expert = get(traced, "/api/expert?layer=2&expert=7").body();
            assertThat(expert.at("/tokens/0/piece").asText()).isEqualTo(" the");
            assertThat(expert.at("/tokens/0/count").asInt()).isEqualTo(2);
            assertThat(expert.at("/tokens/0/mean_weight").asDouble()).isEqualTo(0.625, org.assertj.core.data.Offset.offset(1e-6));
            assertThat(expert.at("/tokens/1/piece").asText()).isEqualTo(" cat");
            assertThat(get(traced, "/api/load").body().get("load").size()).isEqualTo(2);
            assertThat(get(traced, "/api/expert?layer=99&expert=0").body().at("/error/param").asText()).isEqualTo("layer");
        } finally {
            traced.close();
        }
    }
}
