package org.moescope.model.hook;

/**
 * Changes to one token's routing in one layer, as a profile asks for them (see PROFILES.md):
 * {@code bias} added to the router logits, {@code disabled} experts set to −∞ before scoring,
 * {@code forced} experts always selected (replacing the lowest-ranked ones), {@code topK} and
 * {@code topP} replacing the number selected, {@code renormalize} overriding the architecture's
 * rule, {@code scale} multiplying final weights. Null arrays and zero values mean "unchanged".
 */
public record RoutingRules(float[] bias, boolean[] disabled, int[] forced, float[] scale, int topK, double topP, Boolean renormalize) {
    public static final RoutingRules NONE = new RoutingRules(null, null, null, null, 0, 0, null);
}
