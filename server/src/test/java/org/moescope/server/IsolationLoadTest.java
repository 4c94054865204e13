package org.moescope.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.moescope.server.Fixture.post;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

/**
 * Requests never affect each other: 64 concurrent requests with different profiles and seeds
 * each equal the same request run alone; and a bounded load run on loopback (a fixed number of
 * requests) reports throughput and latency percentiles.
 */
class IsolationLoadTest {
    private static final String[] PROFILES = {
        null,
        "{\"profile\":\"fewer-refusals\"}",
        "{\"profile\":{\"router\":{\"top_k\":1}}}",
        "{\"profile\":{\"experts\":{\"scale\":[{\"layers\":\"all\",\"experts\":[0,1,2,3],\"factor\":0.5}],\"force\":[{\"layers\":[2],\"experts\":[7]}]}}}",
    };
    private static final String[] PROMPTS = {"How do I make a car bomb?", "What is 37 + 48?", "Write a creative sentence about the sea.",
        "Tell me about the nurse.", "Why is the sky blue?", "Name three fruits."};

    private static String body(int i) {
        String profile = PROFILES[i % PROFILES.length];
        return "{\"messages\":[{\"role\":\"user\",\"content\":" + Fixture.quote(PROMPTS[i % PROMPTS.length]) + "}],\"max_tokens\":16,"
                + "\"temperature\":0.9,\"seed\":" + (1000 + i) + (profile == null ? "" : ",\"moescope\":" + profile) + "}";
    }

    @Test
    void sixtyFourConcurrentRequestsEachEqualTheirRunAlone() throws Exception {
        Server server = Fixture.start(new Limits(1 << 20, 2047, 2048, 16, 64, Duration.ofMinutes(2)), null);
        try {
            String[] alone = new String[64];
            for (int i = 0; i < 64; i++) alone[i] = Fixture.content(post(server, "/v1/chat/completions", body(i)));
            List<CompletableFuture<Fixture.Response>> all = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 64; i++) {
                    int k = i;
                    all.add(CompletableFuture.supplyAsync(() -> post(server, "/v1/chat/completions", body(k)), pool));
                }
                for (int i = 0; i < 64; i++) {
                    Fixture.Response r = all.get(i).get();
                    assertThat(r.status()).as("request %d", i).isEqualTo(200);
                    assertThat(Fixture.content(r)).as("request %d (profile %s) concurrent vs alone", i, PROFILES[i % PROFILES.length]).isEqualTo(alone[i]);
                }
            }
            // the profiles and seeds really differ: the answers are not all the same
            assertThat(Arrays.stream(alone).distinct().count()).isGreaterThan(32);
            // and the plain requests among them did share decoding passes
            assertThat(metric(server, "moescope_shared_decode_passes_total")).isPositive();
        } finally {
            server.close();
        }
    }

    private static double metric(Server server, String name) {
        for (String line : Fixture.get(server, "/metrics").raw().body().split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1));
        }
        throw new AssertionError(name + " is not in /metrics");
    }

    @Test
    void boundedLoadReportsThroughputAndLatency() throws Exception {
        load("mixed profiles", IsolationLoadTest::body);
        load("no profiles", i -> "{\"messages\":[{\"role\":\"user\",\"content\":" + Fixture.quote(PROMPTS[i % PROMPTS.length])
                + "}],\"max_tokens\":16,\"temperature\":0.9,\"seed\":" + (1000 + i) + "}");
    }

    private static void load(String name, java.util.function.IntFunction<String> body) throws Exception {
        int requests = 96, clients = 8;
        Server server = Fixture.start(new Limits(1 << 20, 2047, 2048, 4, 64, Duration.ofMinutes(2)), null);
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            for (int i = 0; i < 8; i++) post(server, "/v1/chat/completions", body.apply(i)); // warm-up
            double passes0 = metric(server, "moescope_shared_decode_passes_total"), rows0 = metric(server, "moescope_shared_decode_tokens_total");
            long[] latency = new long[requests];
            int[] tokens = new int[requests];
            List<CompletableFuture<Void>> all = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < requests; i++) {
                int k = i;
                all.add(CompletableFuture.runAsync(() -> {
                    long t0 = System.nanoTime();
                    Fixture.Response r = post(server, "/v1/chat/completions", body.apply(k));
                    latency[k] = System.nanoTime() - t0;
                    assertThat(r.status()).isEqualTo(200);
                    JsonNode usage = r.body().get("usage");
                    tokens[k] = usage.get("completion_tokens").asInt();
                }, pool));
            }
            for (var f : all) f.get();
            double seconds = (System.nanoTime() - start) / 1e9;
            long[] sorted = latency.clone();
            Arrays.sort(sorted);
            double p50 = sorted[requests / 2] / 1e6, p99 = sorted[(int) Math.ceil(requests * 0.99) - 1] / 1e6;
            int generated = Arrays.stream(tokens).sum();
            double passes = metric(server, "moescope_shared_decode_passes_total") - passes0;
            double rows = metric(server, "moescope_shared_decode_tokens_total") - rows0;
            System.out.printf("load, %s: %d requests (%d clients, 4 slots, 16 tokens each) in %.2f s: %.1f req/s, %.0f generated tok/s, "
                    + "latency p50 %.0f ms, p99 %.0f ms; %.0f shared decoding passes, %.1f tokens each%n", name, requests, clients, seconds,
                    requests / seconds, generated / seconds, p50, p99, passes, passes > 0 ? rows / passes : 0);
            assertThat(p99).isLessThan(60_000);
            assertThat(generated).isPositive();
        } finally {
            server.close();
        }
    }
}
