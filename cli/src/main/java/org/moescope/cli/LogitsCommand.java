package org.moescope.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

import org.moescope.format.safetensors.SafetensorsWriter;
import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.runtime.ReferenceCapture;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "logits", description = {"Run one forward pass and write logits, hidden states and router logits as float32 safetensors,",
        "in the layout of HF's output_hidden_states/output_router_logits (the golden files' layout):",
        "input_ids [T], logits [T,V], hidden.<i> [T,H] (0: embeddings … L: final-norm output), router_logits.<l> [T,E]."})
final class LogitsCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    static final class Input {
        @Option(names = "--ids", split = ",", paramLabel = "ID", description = "token ids, comma-separated") int[] ids;

        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "text, tokenized with the model's tokenizer") String prompt;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Input input;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "output .safetensors file") Path out;

    @Option(names = "--profile", paramLabel = "P.json", description = "apply a profile (interventions, steering)") Path profile;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)") Integer threads;

    @Override
    public Integer call() {
        Threads.configure(threads);
        try (ModelFile file = ModelFile.open(model.resolve())) {
            int[] ids = input.ids != null ? input.ids : org.moescope.runtime.TextModel.open(file).encodePrompt(input.prompt);
            if (ids.length == 0) throw new UserException("no tokens to run");
            Transformer transformer = Transformer.of(file);
            ReferenceCapture capture = new ReferenceCapture(file.config());
            var hooks = Profiles.hooks(profile, file, capture);
            int vocabulary = file.config().vocabularySize();
            float[] logits = new float[ids.length * vocabulary];
            var state = transformer.newState(ids.length, ids.length);
            transformer.forward(state, new Batch().set(ids, 0, ids.length, 0, Batch.Phase.PROMPT), hooks, logits, true);
            long t = ids.length;
            SafetensorsWriter writer = new SafetensorsWriter().metadata("model", file.path().toString())
                    .add("input_ids", new long[] {t}, Arrays.stream(ids).asLongStream().toArray())
                    .add("logits", new long[] {t, vocabulary}, logits);
            capture.values().forEach((name, values) -> writer.add(name, new long[] {t, capture.width(name)}, values));
            writer.write(out);
            System.err.printf("wrote %s: %d tokens, %d tensors%n", out, ids.length, capture.values().size() + 2);
        }
        return 0;
    }
}
