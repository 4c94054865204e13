package org.moescope.probe.vector;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;

/**
 * Steering vectors from contrast pairs (Turner et al. 2023 "activation addition"; Zou et al. 2023
 * "representation engineering"): the residual stream after chosen layers ({@code resid_post}),
 * reduced per prompt to its mean over tokens or its last token, then either the difference of the
 * class means (diffmean) or the first principal direction of the paired differences (pca, sign
 * aligned with diffmean, scaled to the mean projection of the differences).
 */
public final class VectorMaker {
    public enum Method { DIFFMEAN, PCA }

    public enum Reduction { MEAN, LAST }

    private VectorMaker() {}

    /** Per layer, the reduced residual of each prompt: [prompt][hidden]. */
    public static Map<Integer, List<float[]>> activations(Transformer model, List<int[]> prompts, List<Integer> layers, Reduction reduction) {
        int hidden = model.config().hiddenSize();
        Map<Integer, List<float[]>> out = new TreeMap<>();
        for (int l : layers) out.put(l, new ArrayList<>());
        for (int[] ids : prompts) {
            Map<Integer, float[]> reduced = new TreeMap<>();
            Hooks capture = new Hooks() {
                @Override public boolean active(HookPoint.Kind kind, int layer) { return kind == HookPoint.Kind.RESID_POST && layers.contains(layer); }

                @Override public void at(HookPoint p, Batch batch, float[] values, int offset, int width) {
                    float[] v = new float[hidden];
                    if (reduction == Reduction.LAST) {
                        System.arraycopy(values, offset + (batch.size() - 1) * width, v, 0, hidden);
                    } else {
                        for (int t = 0; t < batch.size(); t++) for (int i = 0; i < hidden; i++) v[i] += values[offset + t * width + i];
                        for (int i = 0; i < hidden; i++) v[i] /= batch.size();
                    }
                    reduced.put(p.layer(), v);
                }
            };
            model.forward(model.newState(ids.length, ids.length), new Batch().set(ids, 0, ids.length, 0, Batch.Phase.PROMPT), capture,
                    new float[model.config().vocabularySize()], false);
            for (int l : layers) out.get(l).add(reduced.get(l));
        }
        return out;
    }

    /** A vector per layer pointing from the negative prompts toward the positive ones. */
    public static Map<Integer, float[]> make(Transformer model, List<int[]> positive, List<int[]> negative, List<Integer> layers,
                                             Method method, Reduction reduction) {
        if (positive.isEmpty() || negative.isEmpty()) throw new IllegalArgumentException("need positive and negative prompts");
        if (method == Method.PCA && positive.size() != negative.size()) {
            throw new IllegalArgumentException("pca needs pairs: " + positive.size() + " positive vs " + negative.size() + " negative prompts");
        }
        Map<Integer, List<float[]>> pos = activations(model, positive, layers, reduction);
        Map<Integer, List<float[]>> neg = activations(model, negative, layers, reduction);
        Map<Integer, float[]> out = new TreeMap<>();
        for (int l : layers) {
            float[] diff = subtract(mean(pos.get(l)), mean(neg.get(l)));
            out.put(l, method == Method.DIFFMEAN ? diff : principal(pos.get(l), neg.get(l), diff));
        }
        return out;
    }

    static float[] mean(List<float[]> vectors) {
        float[] m = new float[vectors.getFirst().length];
        for (float[] v : vectors) for (int i = 0; i < m.length; i++) m[i] += v[i];
        for (int i = 0; i < m.length; i++) m[i] /= vectors.size();
        return m;
    }

    static float[] subtract(float[] a, float[] b) {
        float[] d = new float[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i] - b[i];
        return d;
    }

    /** First right singular vector of the paired differences by power iteration. */
    static float[] principal(List<float[]> pos, List<float[]> neg, float[] diffmean) {
        int n = pos.size(), h = diffmean.length;
        double[][] d = new double[n][h];
        for (int k = 0; k < n; k++) for (int i = 0; i < h; i++) d[k][i] = pos.get(k)[i] - neg.get(k)[i];
        double[] v = new double[h];
        for (int i = 0; i < h; i++) v[i] = diffmean[i] + 1e-3 * ((i * 7919) % 13 - 6);
        for (int iteration = 0; iteration < 200; iteration++) {
            double[] w = new double[h];
            for (double[] row : d) {
                double dot = 0;
                for (int i = 0; i < h; i++) dot += row[i] * v[i];
                for (int i = 0; i < h; i++) w[i] += dot * row[i];
            }
            double norm = 0;
            for (double x : w) norm += x * x;
            norm = Math.sqrt(norm);
            if (norm == 0) break;
            for (int i = 0; i < h; i++) v[i] = w[i] / norm;
        }
        double align = 0, projection = 0;
        for (int i = 0; i < h; i++) align += v[i] * diffmean[i];
        double sign = align < 0 ? -1 : 1;
        for (double[] row : d) {
            double dot = 0;
            for (int i = 0; i < h; i++) dot += row[i] * v[i] * sign;
            projection += dot / n;
        }
        float[] out = new float[h];
        for (int i = 0; i < h; i++) out[i] = (float) (v[i] * sign * projection);
        return out;
    }
}
