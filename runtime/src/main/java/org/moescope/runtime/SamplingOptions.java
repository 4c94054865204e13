package org.moescope.runtime;

/**
 * How the next token is chosen. Temperature 0 is greedy (argmax). Filters apply in llama.cpp's
 * default order: repetition penalty, top-k, top-p, min-p, then temperature and a seeded draw.
 *
 * @param topK              keep the k most likely tokens (0: all)
 * @param topP              keep the smallest set whose probability reaches p (1: all)
 * @param minP              drop tokens less likely than minP × the most likely (0: none)
 * @param repetitionPenalty divide positive / multiply negative logits of recent tokens (1: none)
 * @param penaltyWindow     how many recent tokens the penalty looks at
 * @param seed              random seed; the same seed and inputs give the same tokens
 */
public record SamplingOptions(float temperature, int topK, float topP, float minP, float repetitionPenalty, int penaltyWindow, long seed) {
    public static final SamplingOptions GREEDY = new SamplingOptions(0, 0, 1, 0, 1, 64, 0);

    public SamplingOptions {
        if (temperature < 0) throw new IllegalArgumentException("temperature must be ≥ 0, not " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be ≥ 0, not " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], not " + topP);
        if (!(minP >= 0 && minP < 1)) throw new IllegalArgumentException("min-p must be in [0, 1), not " + minP);
        if (!(repetitionPenalty > 0)) throw new IllegalArgumentException("repetition penalty must be > 0, not " + repetitionPenalty);
    }

    public boolean greedy() { return temperature == 0; }

    public SamplingOptions withTemperature(float t) { return new SamplingOptions(t, topK, topP, minP, repetitionPenalty, penaltyWindow, seed); }

    public SamplingOptions withSeed(long s) { return new SamplingOptions(temperature, topK, topP, minP, repetitionPenalty, penaltyWindow, s); }

    public SamplingOptions withTopP(float p) { return new SamplingOptions(temperature, topK, p, minP, repetitionPenalty, penaltyWindow, seed); }

    public SamplingOptions withTopK(int k) { return new SamplingOptions(temperature, k, topP, minP, repetitionPenalty, penaltyWindow, seed); }

    public SamplingOptions withMinP(float p) { return new SamplingOptions(temperature, topK, topP, p, repetitionPenalty, penaltyWindow, seed); }

    public SamplingOptions withRepetitionPenalty(float r) { return new SamplingOptions(temperature, topK, topP, minP, r, penaltyWindow, seed); }
}
