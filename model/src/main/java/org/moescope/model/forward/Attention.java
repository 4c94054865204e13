package org.moescope.model.forward;

import org.moescope.model.hook.Batch;

/** One layer's self-attention: normalised hidden rows in, attention output rows out. */
interface Attention {
    /** in: [batch, hidden] normalised; out: [batch, hidden]. Writes this batch's keys/values to the cache. */
    void forward(State state, Batch batch, float[] in, float[] out);

    /** Per-position cache widths: {key, value}. */
    int[] cacheWidths();

    /**
     * softmax over scores[0, n) (optionally with a sink logit that takes part in the normalisation
     * but has no value, as gpt-oss's attention sinks), in place.
     */
    static void softmax(float[] scores, int n, float sink, boolean hasSink) {
        float max = hasSink ? sink : Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, scores[i]);
        float sum = hasSink ? (float) Math.exp(sink - max) : 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(scores[i] - max);
            scores[i] = e;
            sum += e;
        }
        float inverse = 1 / sum;
        for (int i = 0; i < n; i++) scores[i] *= inverse;
    }
}
