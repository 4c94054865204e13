package org.moescope.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.moescope.model.ModelFile;
import org.moescope.probe.vector.SteeringVectors;
import org.moescope.probe.vector.VectorMaker;
import org.moescope.runtime.TextModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "vector", description = "Steering vectors.", subcommands = VectorCommand.Make.class)
final class VectorCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    @Command(name = "make", description = {"Make a steering vector from contrast prompts: the residual stream after each chosen layer,",
            "positive minus negative (diffmean) or their first principal direction (pca). Writes llama.cpp's control-vector",
            "GGUF (.gguf; direction.N is added to the output of layer N) or safetensors (.safetensors)."})
    static final class Make implements Callable<Integer> {
        @Mixin ModelOption model;

        @Option(names = "--positive", required = true, paramLabel = "A.jsonl", description = "prompts of the direction to steer toward") Path positive;

        @Option(names = "--negative", required = true, paramLabel = "B.jsonl", description = "prompts of the direction to steer away from") Path negative;

        @Option(names = "--layers", required = true, paramLabel = "2-5", description = "layers: a range 2-5 or a list 2,3,5") String layers;

        @Option(names = "--method", defaultValue = "diffmean", description = "diffmean or pca (default ${DEFAULT-VALUE})") String method;

        @Option(names = "--last-token", description = "use the last prompt token instead of the mean over the prompt") boolean lastToken;

        @Option(names = "--chat", description = "wrap prompts as user messages with the chat template") boolean chat;

        @Option(names = "--out", required = true, paramLabel = "v.gguf") Path out;

        @Override
        public Integer call() {
            List<Integer> layerList = parseLayers(layers);
            VectorMaker.Method m = switch (method) {
                case "diffmean" -> VectorMaker.Method.DIFFMEAN;
                case "pca" -> VectorMaker.Method.PCA;
                default -> throw new UserException("--method must be diffmean or pca, not " + method);
            };
            try (ModelFile file = ModelFile.open(model.resolve())) {
                for (int l : layerList) if (l >= file.config().layerCount()) throw new UserException("--layers: layer " + l + " does not exist (" + file.config().layerCount() + " layers)");
                TextModel text = TextModel.open(file);
                List<int[]> pos = encode(text, Prompts.read(positive)), neg = encode(text, Prompts.read(negative));
                Map<Integer, float[]> vectors = VectorMaker.make(text.transformer(), pos, neg, layerList, m,
                        lastToken ? VectorMaker.Reduction.LAST : VectorMaker.Reduction.MEAN);
                if (out.toString().endsWith(".gguf")) {
                    if (vectors.containsKey(0)) throw new UserException("llama.cpp's control vectors cannot hold layer 0; choose layers from 1 or write .safetensors");
                    SteeringVectors.writeControlVector(out, vectors, file.config().architecture(), file.config().layerCount());
                } else {
                    SteeringVectors.writeSafetensors(out, vectors, file.config().layerCount());
                }
                System.err.printf("wrote %s: %s vector for layers %s from %d positive and %d negative prompts%n", out, method, layerList, pos.size(), neg.size());
            }
            return 0;
        }

        private List<int[]> encode(TextModel text, List<String> prompts) {
            List<int[]> out = new ArrayList<>();
            for (String p : prompts) out.add(chat ? text.encodeUserMessage(null, p) : text.encodePrompt(p));
            return out;
        }
    }

    static List<Integer> parseLayers(String spec) {
        List<Integer> out = new ArrayList<>();
        try {
            for (String part : spec.split(",")) {
                if (part.contains("-")) {
                    String[] r = part.split("-");
                    for (int l = Integer.parseInt(r[0].trim()); l <= Integer.parseInt(r[1].trim()); l++) out.add(l);
                } else {
                    out.add(Integer.parseInt(part.trim()));
                }
            }
        } catch (NumberFormatException e) {
            throw new UserException("--layers: '" + spec + "' is not a range (2-5) or a list (2,3,5)");
        }
        return out;
    }
}
