package org.moescope.runtime;

/** How a generation ended and how many tokens it produced. */
public record GenerationResult(int tokens, Stop stop) {
    public enum Stop {
        /** an end-of-generation token was produced */
        END_OF_GENERATION,
        /** the requested number of tokens was reached */
        LENGTH,
        /** the listener asked to stop (a stop string, a cancelled request) */
        STOPPED,
        /** the context is full */
        CONTEXT
    }
}
