package org.moescope.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.moescope.model.ModelFile;
import org.moescope.model.hook.Batch;
import org.moescope.runtime.RoutingRecorder;
import org.moescope.runtime.Sampler;
import org.moescope.runtime.Session;
import org.moescope.runtime.TextGenerator;
import org.moescope.runtime.TextModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", description = {"Generate text from a prompt, streaming it to stdout; speed goes to stderr.",
        "With --experts, a table of the experts each generated token was routed to follows the text."})
final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "the prompt") String prompt;

    @Option(names = "--chat", description = "wrap the prompt as a user message with the model's chat template") boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "a system message (implies --chat)") String system;

    @Option(names = "--experts", description = "after the text, show the experts each generated token used, per layer") boolean experts;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop before this text (repeatable)") List<String> stops = List.of();

    @Option(names = "--ctx", defaultValue = "0", description = "context length (default: the model's, at most 4096)") int context;

    @Option(names = "--profile", paramLabel = "P.json", description = "apply a profile (interventions, steering)") Path profile;

    @Mixin SamplingMixin sampling;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)") Integer threads;

    @Override
    public Integer call() {
        Threads.configure(threads);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        try (ModelFile file = ModelFile.open(model.resolve())) {
            TextModel text = TextModel.open(file);
            int[] ids = chat || system != null ? text.encodeUserMessage(system, prompt) : text.encodePrompt(prompt);
            int ctx = context > 0 ? context : Math.min(4096, Math.max(file.config().contextLength(), 1));
            if (ids.length + 1 > ctx) throw new UserException("the prompt has " + ids.length + " tokens; the context holds " + ctx + " (use --ctx)");
            Session session = new Session(text.transformer(), ctx, 512);
            var loaded = Profiles.load(profile);
            var interventions = Profiles.hooks(loaded, profile, file, null);
            RoutingRecorder routing = new RoutingRecorder(interventions, file.config().layerCount());
            session.setHooks(routing);
            if (loaded.contrast() != null) {
                Session weak = new Session(text.transformer(), ctx, 512);
                weak.setHooks(org.moescope.runtime.SelfContrast.weak(interventions, loaded.contrast().weakTopK()));
                session.contrastWith(weak, (float) loaded.contrast().alpha());
            }
            long start = System.nanoTime();
            session.feed(ids, Batch.Phase.PROMPT);
            long prefilled = System.nanoTime();
            Sampler sampler = new Sampler(sampling.options(), file.config().vocabularySize());
            var result = TextGenerator.generate(session, text.tokenizer(), sampling.tokens, sampler, stops, delta -> {
                out.print(delta);
                out.flush();
                return true;
            });
            // the last token is sampled but not run: its routing is not known (it would need one more forward pass)
            long done = System.nanoTime();
            out.println();
            if (experts) ExpertTable.print(out, text.tokenizer(), routing, ids.length, result.tokens());
            double promptRate = ids.length / ((prefilled - start) / 1e9);
            double genRate = result.tokens().length / ((done - prefilled) / 1e9);
            System.err.printf("prompt: %d tokens, %.1f tok/s | generated: %d tokens, %.1f tok/s | stop: %s%n", ids.length, promptRate,
                    result.tokens().length, genRate, result.stoppedByString() ? "stop string" : result.stop().name().toLowerCase());
        }
        return 0;
    }
}
