package org.moescope.model.forward;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.moescope.format.TensorData;
import org.moescope.format.safetensors.SafetensorsFile;
import org.moescope.model.ModelFile;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;

/** Runs a model over a golden file's input ids, capturing what the golden holds, and measures the differences. */
final class GoldenRun {
    final Map<String, float[]> captured = new HashMap<>();
    final float[] logits;
    final int tokens;
    final int vocabulary;

    GoldenRun(ModelFile model, int[] ids) {
        Transformer transformer = Transformer.of(model);
        State state = transformer.newState(ids.length, ids.length + 8);
        int hidden = model.config().hiddenSize();
        int layers = model.config().layerCount();
        Hooks hooks = new Hooks() {
            @Override public boolean active(HookPoint.Kind kind, int layer) {
                return kind == HookPoint.Kind.EMBED || kind == HookPoint.Kind.RESID_POST || kind == HookPoint.Kind.FINAL_NORM
                        || kind == HookPoint.Kind.ROUTER_LOGITS;
            }

            @Override public void at(HookPoint p, Batch batch, float[] values, int offset, int width) {
                String key = switch (p.kind()) {
                    case EMBED -> "hidden.0";
                    case RESID_POST -> p.layer() == layers - 1 ? null : "hidden." + (p.layer() + 1);
                    case FINAL_NORM -> "hidden." + layers;
                    case ROUTER_LOGITS -> "router_logits." + p.layer();
                    default -> null;
                };
                if (key != null) captured.put(key, java.util.Arrays.copyOfRange(values, offset, offset + batch.size() * width));
            }
        };
        this.tokens = ids.length;
        this.vocabulary = model.config().vocabularySize();
        this.logits = new float[ids.length * vocabulary];
        transformer.forward(state, new Batch().set(ids, 0, ids.length, 0, Batch.Phase.PROMPT), hooks, logits, true);
        captured.put("logits", logits);
        if (hidden <= 0) throw new IllegalStateException();
    }

    static int[] inputIds(SafetensorsFile golden) {
        TensorData t = golden.requireTensor("input_ids");
        long[] ids = t.data().toArray(ValueLayout.JAVA_LONG);
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    static float[] floats(SafetensorsFile golden, String name) {
        return golden.requireTensor(name).data().toArray(ValueLayout.JAVA_FLOAT);
    }

    /** Max |a − b| and where, with the reference's largest magnitude for a relative figure. */
    record Difference(double maxAbs, int at, double referenceMax) {
        double relative() { return referenceMax == 0 ? maxAbs : maxAbs / referenceMax; }

        String describe(int width) {
            return String.format("max |error| %.3g at row %d col %d (relative %.3g)", maxAbs, at / width, at % width, relative());
        }
    }

    static Difference compare(float[] actual, float[] expected) {
        if (actual.length != expected.length) throw new AssertionError("length " + actual.length + " vs " + expected.length);
        double max = 0, refMax = 0;
        int at = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = Math.abs(actual[i] - expected[i]);
            if (!(d <= max)) { max = d; at = i; }
            refMax = Math.max(refMax, Math.abs(expected[i]));
        }
        return new Difference(max, at, refMax);
    }

    static Path golden(Path fixture, String name) { return fixture.resolve(name); }
}
