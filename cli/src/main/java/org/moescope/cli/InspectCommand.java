package org.moescope.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.moescope.format.TensorData;
import org.moescope.model.ModelFile;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.config.RopeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", description = {"Describe a model: architecture, hyperparameters, tensors, parameter counts.",
        "MODEL is a .gguf file, the first part of a split GGUF (name-00001-of-0000N.gguf), or a Hugging Face folder."})
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "model file or folder") Path model;

    @Option(names = "--json", description = "print one JSON object instead of text") boolean json;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try (ModelFile file = ModelFile.open(model)) {
            Map<String, Object> hyper = hyperparameters(file.config());
            boolean template = ModelResources.hasChatTemplate(file);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                Map<String, Object> root = new LinkedHashMap<>();
                root.put("architecture", file.config().architecture());
                root.put("format", file.format() == ModelFile.Format.GGUF ? "gguf" : "huggingface");
                root.put("hyperparameters", hyper);
                root.put("tensors", file.storedTensors().stream().map(t -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", t.name());
                    m.put("type", t.type().name());
                    m.put("shape", t.shape());
                    m.put("bytes", t.byteSize());
                    return m;
                }).toList());
                root.put("parameters_total", file.parameterCount());
                root.put("parameters_active", file.activeParameterCount());
                root.put("chat_template", template);
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root));
            } else {
                out.printf("%s  (%s, %s)%n", file.path(), file.config().architecture(),
                        file.format() == ModelFile.Format.GGUF ? "GGUF" : "Hugging Face");
                hyper.forEach((k, v) -> out.printf("  %-22s %s%n", k, v));
                out.printf("  %-22s %,d%n", "parameters total", file.parameterCount());
                out.printf("  %-22s %,d%n", "parameters active", file.activeParameterCount());
                out.printf("  %-22s %s%n", "chat template", template ? "yes" : "no");
                out.println();
                List<TensorData> tensors = file.storedTensors();
                int width = tensors.stream().mapToInt(t -> t.name().length()).max().orElse(10);
                out.printf("  %-" + width + "s  %-7s %-20s %12s%n", "tensor", "type", "shape", "bytes");
                for (TensorData t : tensors) {
                    out.printf("  %-" + width + "s  %-7s %-20s %,12d%n", t.name(), t.type(), t.shapeString(), t.byteSize());
                }
                long bytes = tensors.stream().mapToLong(TensorData::byteSize).sum();
                out.printf("  %d tensors, %,d bytes%n", tensors.size(), bytes);
            }
        }
        return 0;
    }

    static Map<String, Object> hyperparameters(ModelConfig c) {
        Map<String, Object> h = new LinkedHashMap<>();
        var a = c.attention();
        h.put("layers", c.layerCount());
        h.put("hidden_size", c.hiddenSize());
        h.put("heads", a.heads());
        h.put("kv_heads", a.keyValueHeads());
        h.put("head_dim", a.headDim());
        if (a.valueHeadDim() != a.headDim()) h.put("value_head_dim", a.valueHeadDim());
        if (a.isLatent()) {
            h.put("q_lora_rank", a.mla().queryLoraRank());
            h.put("kv_lora_rank", a.mla().kvLoraRank());
        }
        if (a.slidingWindow() > 0) h.put("sliding_window", a.slidingWindow());
        h.put("experts", c.isMoe() ? c.moe().experts() : 0);
        h.put("experts_per_token", c.isMoe() ? c.moe().expertsPerToken() : 0);
        h.put("expert_ffn", c.isMoe() ? c.moe().expertFeedForwardSize() : 0);
        h.put("shared_experts", c.isMoe() ? c.moe().sharedExperts() : 0);
        h.put("dense_layers", c.denseLayerCount());
        if (c.denseLayerCount() > 0) h.put("dense_ffn", c.feedForwardSize());
        if (c.isMoe()) {
            var r = c.moe().router();
            h.put("router", r.scoring().name().toLowerCase() + (r.selectionBias() ? "+selection-bias" : "")
                    + (r.grouped() ? ", groups " + r.topGroups() + "/" + r.groups() : "")
                    + (r.normalize() ? ", renormalised" : "") + (r.scale() != 1 ? ", ×" + r.scale() : ""));
        }
        h.put("vocab", c.vocabularySize());
        h.put("context_length", c.contextLength());
        var rope = c.rope();
        String scaling = switch (rope.scaling()) {
            case RopeConfig.None n -> "";
            case RopeConfig.Linear l -> ", linear ×" + l.factor();
            case RopeConfig.Yarn y -> ", yarn ×" + y.factor();
            case RopeConfig.Llama3 l -> ", llama3 ×" + l.factor();
        };
        h.put("rope", "theta " + rope.theta() + ", " + rope.dimensions() + " dims" + (rope.interleaved() ? ", interleaved" : "") + scaling);
        h.put("norm_eps", c.normEpsilon());
        h.put("tied_embeddings", c.tiedEmbeddings());
        return h;
    }
}
