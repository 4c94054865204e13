package org.moescope.runtime;

import java.util.SplittableRandom;

/**
 * Picks tokens from logits under {@link SamplingOptions}. Owns its scratch arrays and random
 * state; one per sequence. The draw is reproducible: same seed, same logits, same tokens.
 */
public final class Sampler {
    private final SamplingOptions options;
    private final SplittableRandom random;
    private final float[] work;
    private final int[] order;

    public Sampler(SamplingOptions options, int vocabulary) {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
        this.work = new float[vocabulary];
        this.order = new int[vocabulary];
    }

    public SamplingOptions options() { return options; }

    /**
     * The next token from {@code logits[offset, offset + vocabulary)}; {@code history} holds the
     * sequence so far ({@code length} tokens) for the repetition penalty. The logits are not changed.
     */
    public int sample(float[] logits, int offset, int[] history, int length) {
        int n = work.length;
        System.arraycopy(logits, offset, work, 0, n);
        if (options.repetitionPenalty() != 1) penalize(history, length);
        if (options.greedy()) return argmax(work);

        // candidates sorted by logit, best first (ties: lower id first)
        int count = n;
        for (int i = 0; i < n; i++) order[i] = i;
        sortByLogit(count);
        if (options.topK() > 0) count = Math.min(count, options.topK());
        // probabilities at temperature 1 for top-p and min-p, as llama.cpp's samplers compute them
        double max = work[order[0]];
        double sum = 0;
        for (int i = 0; i < count; i++) sum += Math.exp(work[order[i]] - max);
        if (options.topP() < 1) {
            double cumulative = 0;
            int keep = count;
            for (int i = 0; i < count; i++) {
                cumulative += Math.exp(work[order[i]] - max) / sum;
                if (cumulative >= options.topP()) {
                    keep = i + 1;
                    break;
                }
            }
            count = Math.max(1, keep);
        }
        if (options.minP() > 0) {
            double threshold = Math.log(options.minP());
            int keep = 1;
            while (keep < count && work[order[keep]] - max >= threshold) keep++;
            count = keep;
        }
        double inverseTemperature = 1.0 / options.temperature();
        double total = 0;
        for (int i = 0; i < count; i++) total += Math.exp((work[order[i]] - max) * inverseTemperature);
        double draw = random.nextDouble() * total;
        for (int i = 0; i < count; i++) {
            draw -= Math.exp((work[order[i]] - max) * inverseTemperature);
            if (draw <= 0) return order[i];
        }
        return order[count - 1];
    }

    /** CTRL (Keskar et al. 2019): logits of recently seen tokens are divided (if positive) or multiplied by the penalty. */
    private void penalize(int[] history, int length) {
        float penalty = options.repetitionPenalty();
        java.util.BitSet seen = new java.util.BitSet(work.length);
        for (int i = Math.max(0, length - options.penaltyWindow()); i < length; i++) {
            int t = history[i];
            if (t < 0 || t >= work.length || seen.get(t)) continue;
            seen.set(t);
            work[t] = work[t] > 0 ? work[t] / penalty : work[t] * penalty;
        }
    }

    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /** Partial work is not worth it at vocabulary sizes ≤ 256k: a full sort of indices by logit. */
    private void sortByLogit(int count) {
        Integer[] boxed = new Integer[count];
        for (int i = 0; i < count; i++) boxed[i] = order[i];
        java.util.Arrays.sort(boxed, (a, b) -> {
            int c = Float.compare(work[b], work[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        for (int i = 0; i < count; i++) order[i] = boxed[i];
    }
}
