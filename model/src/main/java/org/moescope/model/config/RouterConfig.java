package org.moescope.model.config;

/**
 * How a MoE layer turns router logits into selected experts and weights. Each architecture's rule
 * is a combination of these choices:
 * <ol>
 * <li>scores = softmax(logits) or sigmoid(logits) (after any profile bias; disabled experts get -inf)</li>
 * <li>selection scores = scores + the learned selection bias ({@code selectionBias}, DeepSeek-V3's
 *     e_score_correction_bias), used for choosing only</li>
 * <li>with groups: keep the {@code topGroups} best of {@code groups} groups (a group's score is its
 *     max, or the sum of its two best: {@link GroupScore}), then the top-k within them</li>
 * <li>weights = the selected experts' scores, divided by their sum when {@code normalize}, times
 *     {@code scale} (routed_scaling_factor)</li>
 * </ol>
 *
 * @param logitBias the router linear layer has a bias (gpt-oss)
 */
public record RouterConfig(
        Scoring scoring,
        boolean selectionBias,
        int groups,
        int topGroups,
        GroupScore groupScore,
        boolean normalize,
        float scale,
        boolean logitBias) {

    public enum Scoring { SOFTMAX, SIGMOID }

    public enum GroupScore {
        /** DeepSeek-V2 group_limited_greedy: the best expert score in the group */
        MAX,
        /** DeepSeek-V3 noaux_tc: the sum of the two best (bias-corrected) scores in the group */
        TOP2_SUM
    }

    public static RouterConfig softmax(boolean normalize) {
        return new RouterConfig(Scoring.SOFTMAX, false, 1, 1, GroupScore.MAX, normalize, 1f, false);
    }

    public boolean grouped() { return groups > 1 && topGroups < groups; }
}
