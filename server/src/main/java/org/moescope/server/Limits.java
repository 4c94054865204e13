package org.moescope.server;

import java.time.Duration;

/**
 * What one client may ask of the server.
 *
 * @param maxBodyBytes      request bodies beyond this are refused (413)
 * @param maxPromptTokens   prompts beyond this are refused (400)
 * @param maxTokens         the largest max_tokens accepted
 * @param parallel          requests generating at once
 * @param queue             requests waiting beyond those; more get 429 with Retry-After
 * @param requestTimeout    a generation running longer is stopped (finish_reason "length")
 */
public record Limits(long maxBodyBytes, int maxPromptTokens, int maxTokens, int parallel, int queue, Duration requestTimeout) {
    public static Limits defaults(int parallel, int context) {
        return new Limits(1 << 20, context, context, parallel, 64, Duration.ofMinutes(5));
    }
}
