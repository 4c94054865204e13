package org.moescope.model.forward;

import org.moescope.tensor.Workers;

/**
 * Per-token work of a batch (norms, RoPE, routing, combining experts): a prompt's tokens are split
 * across the threads, so that with two threads no step of a layer runs on one alone; a few tokens
 * (decode) run in place. Callers build the parallel task only when {@link #split} says so: a
 * lambda made for every decoded token would be an allocation per token.
 */
final class TokenJobs {
    /** From this many tokens, per-token steps are split across the threads. */
    static final int SPLIT_FROM = 16;

    private TokenJobs() {}

    static boolean split(int tokens) { return tokens >= SPLIT_FROM && Workers.shared().threads() > 1; }
}
