package org.moescope.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.moescope.model.ModelFile;
import org.moescope.model.hook.Batch;
import org.moescope.runtime.Sampler;
import org.moescope.runtime.Session;
import org.moescope.runtime.TextGenerator;
import org.moescope.runtime.TextModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "chat", description = {"An interactive multi-turn conversation through the model's chat template.",
        "Type a message and press enter; /reset starts over, /quit (or end of input) leaves."})
final class ChatCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    @Option(names = "--system", paramLabel = "TEXT", description = "a system message") String system;

    @Option(names = "--ctx", defaultValue = "2048", description = "context length (default ${DEFAULT-VALUE})") int context;

    @Option(names = "--profile", paramLabel = "P.json", description = "apply a profile (interventions, steering)") Path profile;

    @Mixin SamplingMixin sampling;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)") Integer threads;

    @Override
    public Integer call() throws Exception {
        Threads.configure(threads);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (ModelFile file = ModelFile.open(model.resolve())) {
            TextModel text = TextModel.open(file);
            if (text.chatTemplate().isEmpty()) throw new UserException(file.path() + " has no chat template");
            List<Map<String, Object>> messages = new ArrayList<>();
            if (system != null) messages.add(Map.of("role", "system", "content", system));
            Session session = new Session(text.transformer(), context, 512);
            session.setHooks(Profiles.hooks(profile, file, null));
            Sampler sampler = new Sampler(sampling.options(), file.config().vocabularySize());
            System.err.println("moescope chat (" + file.path().getFileName() + "): /reset to start over, /quit to leave");
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/quit")) break;
                if (line.strip().equals("/reset")) {
                    messages.removeIf(m -> !"system".equals(m.get("role")));
                    session.rewind(0);
                    continue;
                }
                if (line.isBlank()) continue;
                messages.add(Map.of("role", "user", "content", line));
                int[] all = text.encodeChat(messages, true, Map.of());
                // the cache holds the conversation so far: feed only what is new (re-render, keep the common prefix)
                int[] cached = session.tokens();
                int common = 0;
                while (common < cached.length && common < all.length && cached[common] == all[common]) common++;
                if (common < session.length()) session.rewind(common);
                if (all.length - common + session.length() >= context) throw new UserException("the conversation no longer fits in --ctx " + context);
                session.feed(all, common, all.length - common, Batch.Phase.PROMPT);
                var result = TextGenerator.generate(session, text.tokenizer(), sampling.tokens, sampler, List.of(), delta -> {
                    out.print(delta);
                    out.flush();
                    return true;
                });
                out.println();
                Map<String, Object> reply = new LinkedHashMap<>();
                reply.put("role", "assistant");
                reply.put("content", result.text());
                messages.add(reply);
            }
        }
        return 0;
    }
}
