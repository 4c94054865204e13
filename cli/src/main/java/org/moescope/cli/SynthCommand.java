package org.moescope.cli;

import java.nio.file.Path;
import org.moescope.study.Progress;
import java.util.concurrent.Callable;

import org.moescope.model.synth.Shape;
import org.moescope.model.synth.SyntheticModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "synth", description = {"Write a GGUF with the real shapes of a published MoE model, random weights and a valid",
        "vocabulary: realistic-scale benchmarks (and llama.cpp comparisons) without downloading the model."})
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--like", required = true, paramLabel = "MODEL",
            description = "olmoe-1b-7b, qwen3-30b-a3b, mixtral-8x7b or deepseek-v2-lite") String like;

    @Option(names = "--layers", paramLabel = "N", description = "keep only the first N layers (default: all)") Integer layers;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "Q8_0, Q4_K_M or BF16") String type;

    @Option(names = "--out", required = true, paramLabel = "FILE.gguf") Path out;

    @Override
    public Integer call() {
        Shape shape = Shape.byName(like).orElseThrow(() -> new UserException("--like: unknown model '" + like + "' (known: "
                + String.join(", ", Shape.KNOWN.stream().map(Shape::name).toList()) + ")"));
        SyntheticModel.FileType fileType;
        try {
            fileType = SyntheticModel.FileType.valueOf(type.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException("--type: unknown type '" + type + "' (Q8_0, Q4_K_M or BF16)");
        }
        int n = layers == null ? shape.layers() : layers;
        if (n < 1 || n > shape.layers()) throw new UserException("--layers must be in 1.." + shape.layers());
        SyntheticModel model = new SyntheticModel(shape, fileType, n);
        try (Progress progress = new Progress("writing " + out.getFileName(), model.estimatedBytes(), "B")) {
            model.write(out, progress::update);
        }
        System.err.printf("%s: %s-shaped, %d layers, %s%n", out, like, n, fileType);
        return 0;
    }
}
