package org.moescope.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.moescope.format.FormatException;
import org.moescope.format.MappedPages;
import org.moescope.format.TensorData;
import org.moescope.format.gguf.GgufFile;
import org.moescope.format.gguf.GgufMetadata;
import org.moescope.format.safetensors.SafetensorsModel;
import org.moescope.model.arch.Architecture;
import org.moescope.model.arch.Architectures;
import org.moescope.model.config.GgufConfig;
import org.moescope.model.config.HfConfig;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.weights.ModelWeights;
import org.moescope.model.weights.TensorSource;
import org.moescope.model.weights.WeightLoader;

/**
 * A model opened from disk: a GGUF file (or the first part of a split one) or a Hugging Face
 * folder. After {@link #open} nothing else in moescope needs to know which.
 */
public final class ModelFile implements AutoCloseable {
    public enum Format { GGUF, HUGGING_FACE }

    private final Path path;
    private final Format format;
    private final Architecture architecture;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final List<TensorData> storedTensors;
    private final GgufFile gguf;
    private final SafetensorsModel safetensors;

    private ModelFile(Path path, Format format, Architecture architecture, ModelConfig config, ModelWeights weights,
                      List<TensorData> storedTensors, GgufFile gguf, SafetensorsModel safetensors) {
        this.path = path;
        this.format = format;
        this.architecture = architecture;
        this.config = config;
        this.weights = weights;
        this.storedTensors = storedTensors;
        this.gguf = gguf;
        this.safetensors = safetensors;
    }

    public static ModelFile open(Path path) {
        if (Files.isDirectory(path)) return openHf(path);
        if (!Files.exists(path)) throw new FormatException(path, "no such file or folder");
        return openGguf(path);
    }

    private static ModelFile openGguf(Path path) {
        GgufFile gguf = GgufFile.open(path);
        try {
            Architecture architecture = Architectures.forGguf(path, gguf.metadata());
            ModelConfig config = architecture.fromGguf(new GgufConfig(path, gguf.metadata()));
            boolean tied = gguf.tensor("output.weight").isEmpty();
            config = withTied(config, tied);
            TensorSource source = source(path, gguf::tensor);
            ModelWeights weights = WeightLoader.fromGguf(config, source);
            return new ModelFile(path, Format.GGUF, architecture, config, weights, List.copyOf(gguf.tensors()), gguf, null);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    private static ModelFile openHf(Path folder) {
        Path configFile = folder.resolve("config.json");
        if (!Files.isRegularFile(configFile)) throw new FormatException(folder, "not a model folder: config.json is missing");
        HfConfig hf = HfConfig.read(configFile);
        Architecture architecture = Architectures.forHf(hf);
        ModelConfig config = architecture.fromHf(hf);
        SafetensorsModel safetensors = SafetensorsModel.open(folder);
        try {
            if (!config.tiedEmbeddings() && safetensors.tensor("lm_head.weight").isEmpty()) config = withTied(config, true);
            TensorSource source = source(folder, safetensors::tensor);
            ModelWeights weights = WeightLoader.fromHf(config, source, architecture.hfNames());
            return new ModelFile(folder, Format.HUGGING_FACE, architecture, config, weights, List.copyOf(safetensors.tensors()), null,
                    safetensors);
        } catch (RuntimeException e) {
            safetensors.close();
            throw e;
        }
    }

    private static ModelConfig withTied(ModelConfig c, boolean tied) {
        return new ModelConfig(c.architecture(), c.hiddenSize(), c.layerCount(), c.vocabularySize(), c.contextLength(), c.normEpsilon(),
                c.attention(), c.rope(), c.feedForwardSize(), c.moe(), c.scales(), tied);
    }

    private static TensorSource source(Path path, java.util.function.Function<String, Optional<TensorData>> lookup) {
        return new TensorSource() {
            @Override public Optional<TensorData> find(String name) { return lookup.apply(name); }

            @Override public Path path() { return path; }
        };
    }

    public Path path() { return path; }

    public Format format() { return format; }

    public Architecture architecture() { return architecture; }

    public ModelConfig config() { return config; }

    public ModelWeights weights() { return weights; }

    /** The tensors as stored in the file(s), in file order. */
    public List<TensorData> storedTensors() { return storedTensors; }

    /**
     * Reads every stored tensor into memory now instead of on first use (benchmarks: the
     * measured passes then do not wait on the disk; llama.cpp's loader does the same). Skipped,
     * returning false, when the tensors exceed the memory available: reading them all would only
     * evict the first ones again.
     */
    public boolean prefetch() {
        long bytes = storedTensors.stream().mapToLong(TensorData::byteSize).sum(), available = MappedPages.availableMemory();
        if (available >= 0 && bytes > available) return false;
        for (TensorData t : storedTensors) MappedPages.populate(t.data());
        return true;
    }

    public Optional<GgufMetadata> ggufMetadata() { return Optional.ofNullable(gguf).map(GgufFile::metadata); }

    /** The HF folder, where tokenizer.json and the chat template live. */
    public Optional<Path> huggingFaceFolder() { return format == Format.HUGGING_FACE ? Optional.of(path) : Optional.empty(); }

    /** Parameters stored in the file (tied embeddings counted once). */
    public long parameterCount() {
        long n = 0;
        for (TensorData t : storedTensors) n += t.elementCount();
        return n;
    }

    /**
     * Parameters used for one token: all, less the routed experts that are not selected
     * ((experts − expertsPerToken) × one expert's parameters in each MoE layer).
     */
    public long activeParameterCount() {
        long active = parameterCount();
        if (!config.isMoe()) return active;
        var moe = config.moe();
        for (int l = 0; l < config.layerCount(); l++) {
            var layer = weights.layers().get(l).moe();
            if (layer == null) continue;
            long perExpert = 0;
            var e = layer.experts().getFirst();
            for (TensorData t : new TensorData[] {e.gate(), e.up(), e.down(), e.gateBias(), e.upBias(), e.downBias()}) {
                if (t != null) perExpert += t.elementCount();
            }
            active -= (long) (moe.experts() - moe.expertsPerToken()) * perExpert;
        }
        return active;
    }

    public List<String> tensorNames() {
        List<String> names = new ArrayList<>();
        for (TensorData t : storedTensors) names.add(t.name());
        return names;
    }

    @Override
    public void close() {
        if (gguf != null) gguf.close();
        if (safetensors != null) safetensors.close();
    }
}
