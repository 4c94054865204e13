package org.moescope.probe.vector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import org.moescope.format.FormatException;
import org.moescope.format.TensorData;
import org.moescope.format.TensorType;
import org.moescope.format.gguf.GgufFile;
import org.moescope.format.gguf.GgufValue;
import org.moescope.format.gguf.GgufWriter;
import org.moescope.format.safetensors.SafetensorsFile;
import org.moescope.format.safetensors.SafetensorsWriter;

/**
 * Steering vectors on disk, in two formats:
 * <ul>
 * <li>llama.cpp's control-vector GGUF ({@code --control-vector}): tensors {@code direction.N}
 *     (float32 [hidden]) with N ≥ 1, plus {@code controlvector.model_hint} and
 *     {@code controlvector.layer_count}. llama.cpp adds direction.N to the output of layer N
 *     (llama_adapter_cvec::apply_to in build_cvec, after layer N's feed-forward residual): in
 *     moescope's names, {@code blocks.N.resid_post}. Layer 0 cannot be steered in this format.</li>
 * <li>safetensors, {@code file.safetensors#name}: a [hidden] vector (the same for every layer it is
 *     applied to) or a [layers, hidden] matrix (row l for layer l).</li>
 * </ul>
 */
public final class SteeringVectors {
    private SteeringVectors() {}

    /** A vector per layer; {@code shared} (used for any layer) when the file holds a single vector. */
    public record Vectors(Map<Integer, float[]> perLayer, float[] shared) {
        public float[] forLayer(int layer) {
            float[] v = perLayer.get(layer);
            return v != null ? v : shared;
        }
    }

    /** Reads {@code ref} ("file.gguf", "file.safetensors#name"), relative paths against {@code base}. */
    public static Vectors read(String ref, Path base) {
        String file = ref;
        String tensor = null;
        int hash = ref.lastIndexOf('#');
        if (hash >= 0) {
            file = ref.substring(0, hash);
            tensor = ref.substring(hash + 1);
        }
        Path path = base == null ? Path.of(file) : base.resolve(file);
        if (!Files.isRegularFile(path)) throw new FormatException(path, "no such vector file");
        if (file.endsWith(".gguf")) return readControlVector(path);
        if (tensor == null) throw new FormatException(path, "name the tensor: " + file + "#name");
        try (SafetensorsFile st = SafetensorsFile.open(path)) {
            TensorData t = st.requireTensor(tensor);
            float[] values = floats(t);
            if (t.rank() == 1) return new Vectors(Map.of(), values);
            if (t.rank() != 2) throw new FormatException(path, "tensor '" + tensor + "' must be [hidden] or [layers, hidden], not " + t.shapeString());
            Map<Integer, float[]> layers = new TreeMap<>();
            int h = (int) t.columns();
            for (int l = 0; l < t.rows(); l++) layers.put(l, java.util.Arrays.copyOfRange(values, l * h, (l + 1) * h));
            return new Vectors(layers, null);
        }
    }

    public static Vectors readControlVector(Path path) {
        try (GgufFile g = GgufFile.open(path)) {
            Map<Integer, float[]> layers = new TreeMap<>();
            int width = -1;
            for (TensorData t : g.tensors()) {
                if (!t.name().startsWith("direction.")) continue;
                int layer;
                try {
                    layer = Integer.parseInt(t.name().substring("direction.".length()));
                } catch (NumberFormatException e) {
                    throw new FormatException(path, "tensor '" + t.name() + "' has no layer number");
                }
                if (layer < 1) throw new FormatException(path, "tensor '" + t.name() + "': control-vector layers start at 1");
                float[] v = floats(t);
                if (width >= 0 && v.length != width) throw new FormatException(path, "tensor '" + t.name() + "' has " + v.length + " values, others " + width);
                width = v.length;
                layers.put(layer, v);
            }
            if (layers.isEmpty()) throw new FormatException(path, "no direction.N tensors: not a control vector");
            return new Vectors(layers, null);
        }
    }

    /** Writes a control vector llama.cpp can load (--control-vector); layers below 1 cannot be written. */
    public static void writeControlVector(Path path, Map<Integer, float[]> layers, String modelHint, int layerCount) {
        GgufWriter w = new GgufWriter()
                .put("general.architecture", GgufValue.of("controlvector"))
                .put("controlvector.model_hint", GgufValue.of(modelHint))
                .put("controlvector.layer_count", GgufValue.ofUint32(layerCount));
        for (var e : new TreeMap<>(layers).entrySet()) {
            if (e.getKey() < 1) throw new IllegalArgumentException("control vectors cannot steer layer " + e.getKey() + " (llama.cpp starts at 1)");
            float[] v = e.getValue();
            w.addTensor("direction." + e.getKey(), TensorType.F32, new long[] {v.length}, MemorySegment.ofArray(v.clone()));
        }
        w.write(path);
    }

    /** Writes [layers, hidden] (rows for absent layers are zero) plus each layer as "layer.N". */
    public static void writeSafetensors(Path path, Map<Integer, float[]> layers, int layerCount) {
        int h = layers.values().iterator().next().length;
        float[] all = new float[layerCount * h];
        SafetensorsWriter w = new SafetensorsWriter();
        for (var e : new TreeMap<>(layers).entrySet()) {
            System.arraycopy(e.getValue(), 0, all, e.getKey() * h, h);
            w.add("layer." + e.getKey(), new long[] {h}, e.getValue());
        }
        w.add("vectors", new long[] {layerCount, h}, all);
        w.write(path);
    }

    private static float[] floats(TensorData t) {
        if (t.type() == TensorType.F32) return t.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
        float[] out = new float[(int) t.elementCount()];
        org.moescope.tensor.Blocks.dequantize(t.type(), t.data(), 0, out, 0, out.length);
        return out;
    }
}
