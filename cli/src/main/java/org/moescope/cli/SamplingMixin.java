package org.moescope.cli;

import org.moescope.runtime.SamplingOptions;
import picocli.CommandLine.Option;

/** Sampling options shared by the generating commands. */
final class SamplingMixin {
    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", description = "tokens to generate at most (default ${DEFAULT-VALUE})") int tokens;

    @Option(names = "--temp", defaultValue = "0", description = "temperature; 0 is greedy (default ${DEFAULT-VALUE})") float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens (0: all)") int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling threshold (1: off)") float topP;

    @Option(names = "--min-p", defaultValue = "0", description = "drop tokens below min-p × the best (0: off)") float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1", description = "repetition penalty (1: off)") float repeatPenalty;

    @Option(names = "--seed", defaultValue = "0", description = "random seed (default ${DEFAULT-VALUE})") long seed;

    SamplingOptions options() {
        try {
            return new SamplingOptions(temperature, topK, topP, minP, repeatPenalty, 64, seed);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage());
        }
    }
}
