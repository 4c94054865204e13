package org.moescope.model.forward;

import java.util.Arrays;

import org.moescope.model.config.MoeConfig;
import org.moescope.model.config.RouterConfig;
import org.moescope.model.hook.RoutingRules;

/**
 * Turns one token's router logits into selected experts and weights, following the
 * architecture's {@link RouterConfig} and, when given, a profile's {@link RoutingRules}. The order
 * of operations is the contract in PROFILES.md: bias, disable (−∞), score, select (selection bias,
 * groups, top-k or top-p), force, weights = scores of the selected, renormalise, × routed scale,
 * × per-expert scale.
 */
final class Router {
    private final RouterConfig config;
    private final int experts;
    private final int expertsPerToken;
    private final float[] selectionBias;
    /**
     * Per thread: a token's scores, choice scores, group scores, kept groups, taken flags and sorted
     * scores (top_p) — tokens may be routed on several threads at once, and nothing is allocated per token.
     */
    private final ThreadLocal<Scratch> scratch;

    private record Scratch(float[] scores, float[] choice, float[] groupScores, boolean[] keptGroups, boolean[] taken, float[] sorted) {}

    Router(MoeConfig moe, float[] selectionBias) {
        this.config = moe.router();
        this.experts = moe.experts();
        this.expertsPerToken = moe.expertsPerToken();
        this.selectionBias = selectionBias;
        int groups = Math.max(1, config.groups());
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(new float[experts], new float[experts], new float[groups], new boolean[groups],
                new boolean[experts], new float[experts]));
    }

    /** The most experts one token can be routed to (all of them, under top_p or top_k rules). */
    int maxSelected() { return experts; }

    /**
     * Routes one token. Writes expert ids and weights, best first, at {@code ids[out..]} and
     * {@code weights[out..]}; returns how many.
     */
    int route(float[] logits, int offset, RoutingRules rules, int[] ids, float[] weights, int out) {
        RoutingRules r = rules == null ? RoutingRules.NONE : rules;
        Scratch sc = scratch.get();
        float[] scores = sc.scores(), choice = sc.choice();
        boolean[] taken = sc.taken();
        for (int e = 0; e < experts; e++) {
            float l = logits[offset + e];
            if (r.bias() != null) l += r.bias()[e];
            if (r.disabled() != null && r.disabled()[e]) l = Float.NEGATIVE_INFINITY;
            scores[e] = l;
        }
        if (config.scoring() == RouterConfig.Scoring.SOFTMAX) {
            Attention.softmax(scores, experts, 0, false);
        } else {
            for (int e = 0; e < experts; e++) scores[e] = (float) (1 / (1 + Math.exp(-scores[e])));
        }
        for (int e = 0; e < experts; e++) {
            boolean off = r.disabled() != null && r.disabled()[e];
            choice[e] = off ? Float.NEGATIVE_INFINITY : scores[e] + (selectionBias == null ? 0 : selectionBias[e]);
        }
        if (config.grouped()) limitToGroups(choice, sc.groupScores(), sc.keptGroups());

        int k = r.topK() > 0 ? Math.min(r.topK(), experts) : expertsPerToken;
        if (r.topP() > 0) k = topPCount(scores, sc.sorted(), r.topP());
        Arrays.fill(taken, false);
        int count = 0;
        for (; count < k; count++) {
            int best = -1;
            for (int e = 0; e < experts; e++) {
                if (!taken[e] && (best < 0 || choice[e] > choice[best])) best = e;
            }
            if (best < 0 || choice[best] == Float.NEGATIVE_INFINITY) break;
            taken[best] = true;
            ids[out + count] = best;
        }
        if (r.forced() != null) count = force(r.forced(), ids, out, count, k);

        for (int i = 0; i < count; i++) weights[out + i] = scores[ids[out + i]];
        boolean normalize = r.renormalize() != null ? r.renormalize() : config.normalize();
        if (normalize) {
            float sum = 0;
            for (int i = 0; i < count; i++) sum += weights[out + i];
            if (sum > 0) for (int i = 0; i < count; i++) weights[out + i] /= sum;
        }
        for (int i = 0; i < count; i++) {
            weights[out + i] *= config.scale();
            if (r.scale() != null) weights[out + i] *= r.scale()[ids[out + i]];
        }
        return count;
    }

    /**
     * Group-limited selection (DeepSeek): rank groups by their best score (V2) or the sum of their
     * two best (V3), keep the best {@code topGroups}; the others' choice scores become 0, as HF's
     * masked_fill(~mask, 0.0) does (so with negative biases a masked expert can still outrank).
     */
    private void limitToGroups(float[] choice, float[] groupScores, boolean[] keep) {
        int groups = config.groups();
        int size = experts / groups;
        for (int g = 0; g < groups; g++) {
            float first = Float.NEGATIVE_INFINITY, second = Float.NEGATIVE_INFINITY;
            for (int e = g * size; e < (g + 1) * size; e++) {
                float c = choice[e];
                if (c > first) {
                    second = first;
                    first = c;
                } else if (c > second) {
                    second = c;
                }
            }
            groupScores[g] = config.groupScore() == RouterConfig.GroupScore.MAX ? first : first + second;
        }
        Arrays.fill(keep, false);
        for (int i = 0; i < config.topGroups(); i++) {
            int best = -1;
            for (int g = 0; g < groups; g++) if (!keep[g] && (best < 0 || groupScores[g] > groupScores[best])) best = g;
            keep[best] = true;
        }
        for (int g = 0; g < groups; g++) {
            if (keep[g]) continue;
            for (int e = g * size; e < (g + 1) * size; e++) if (choice[e] != Float.NEGATIVE_INFINITY) choice[e] = 0f;
        }
    }

    /** top_p: the fewest experts, in score order, whose probabilities sum to at least p (≥ 1); {@code sorted} is scratch. */
    private int topPCount(float[] scores, float[] sorted, double p) {
        float total = 0;
        for (int e = 0; e < experts; e++) total += scores[e];
        System.arraycopy(scores, 0, sorted, 0, experts);
        Arrays.sort(sorted);
        double cumulative = 0;
        int k = 0;
        for (int i = experts - 1; i >= 0; i--) {
            cumulative += sorted[i] / total;
            k++;
            if (cumulative >= p) break;
        }
        return Math.max(1, k);
    }

    /** Forced experts take the places of the lowest-ranked unforced ones (or are appended while fewer than k are selected). */
    private int force(int[] forced, int[] ids, int out, int count, int k) {
        for (int f : forced) {
            boolean present = false;
            for (int i = 0; i < count; i++) present |= ids[out + i] == f;
            if (present) continue;
            if (count < k) {
                ids[out + count++] = f;
                continue;
            }
            for (int i = count - 1; i >= 0; i--) {
                int candidate = ids[out + i];
                boolean candidateForced = false;
                for (int g : forced) candidateForced |= g == candidate;
                if (!candidateForced) {
                    // shift the ones below up and place f last: it is the lowest-ranked selection now
                    System.arraycopy(ids, out + i + 1, ids, out + i, count - i - 1);
                    ids[out + count - 1] = f;
                    break;
                }
            }
        }
        return count;
    }
}
