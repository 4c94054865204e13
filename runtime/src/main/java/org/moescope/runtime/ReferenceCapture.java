package org.moescope.runtime;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.moescope.model.config.ModelConfig;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;

/**
 * Captures what HF's {@code output_hidden_states} and {@code output_router_logits} give, named as
 * the golden files name them: {@code hidden.0} (embeddings) … {@code hidden.L} (final-norm output),
 * {@code router_logits.<l>}, each [tokens, width], appended across forward calls.
 */
public final class ReferenceCapture implements Hooks {
    private final int layers;
    private final Map<String, float[]> values = new LinkedHashMap<>();
    private final Map<String, Integer> widths = new LinkedHashMap<>();

    public ReferenceCapture(ModelConfig config) { this.layers = config.layerCount(); }

    @Override
    public boolean active(HookPoint.Kind kind, int layer) {
        return switch (kind) {
            case EMBED, FINAL_NORM, ROUTER_LOGITS -> true;
            case RESID_POST -> layer < layers - 1;
            default -> false;
        };
    }

    @Override
    public void at(HookPoint point, Batch batch, float[] data, int offset, int width) {
        String name = switch (point.kind()) {
            case EMBED -> "hidden.0";
            case RESID_POST -> "hidden." + (point.layer() + 1);
            case FINAL_NORM -> "hidden." + layers;
            case ROUTER_LOGITS -> "router_logits." + point.layer();
            default -> throw new IllegalStateException(point.name());
        };
        int rows = batch.size();
        float[] old = values.getOrDefault(name, new float[0]);
        float[] grown = Arrays.copyOf(old, old.length + rows * width);
        System.arraycopy(data, offset, grown, old.length, rows * width);
        values.put(name, grown);
        widths.put(name, width);
    }

    /** Captured tensors in HF order: hidden.0 … hidden.L, then router_logits.0 … */
    public Map<String, float[]> values() {
        Map<String, float[]> ordered = new LinkedHashMap<>();
        for (int i = 0; i <= layers; i++) if (values.containsKey("hidden." + i)) ordered.put("hidden." + i, values.get("hidden." + i));
        for (int l = 0; l < layers; l++) if (values.containsKey("router_logits." + l)) ordered.put("router_logits." + l, values.get("router_logits." + l));
        return ordered;
    }

    public int width(String name) { return widths.get(name); }
}
