package org.moescope.server;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.runtime.SamplingOptions;

/** What the HTTP layer asks of a model: one completion at a time per call, any number of calls in parallel. */
public interface Engine {
    String modelId();

    int contextLength();

    /** The model's shape (layers, experts), for the explorer. */
    org.moescope.model.config.ModelConfig config();

    /**
     * Runs one completion. {@code messages} (chat) or {@code prompt} (text completion) is set.
     * Text arrives at {@code sink} in pieces as it is generated; when the sink returns false
     * (client gone) generation stops.
     */
    Completion complete(Request request, Sink sink);

    /** Engine-specific lines for /metrics (Prometheus text format), or "". */
    default String metrics() { return ""; }

    /**
     * @param profile        a profile JSON object, or null
     * @param returnRouting  collect per generated token, per layer, the chosen experts and weights
     */
    record Request(List<Map<String, Object>> messages, String prompt, int maxTokens, SamplingOptions sampling, List<String> stop,
                   JsonNode profile, boolean returnRouting, long deadlineNanos) {}

    record Completion(String text, String finishReason, int promptTokens, int completionTokens, List<TokenRouting> routing) {}

    /** One generated token's routing: for each MoE layer, the experts chosen and their weights. */
    record TokenRouting(String token, int[][] experts, float[][] weights) {}

    @FunctionalInterface
    interface Sink {
        /**
         * Called once the request is known to be valid (prompt encoded, profile bound), before
         * the first text: a streaming response sends its headers here, so that every error found
         * in the request still gets its own status.
         */
        default void start() throws java.io.IOException {}

        boolean accept(String delta);
    }
}
