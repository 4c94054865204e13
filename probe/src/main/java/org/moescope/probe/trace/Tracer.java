package org.moescope.probe.trace;

import java.util.List;
import java.util.Set;

import org.moescope.model.hook.Batch;
import org.moescope.model.hook.HookPoint;
import org.moescope.model.hook.Hooks;
import org.moescope.probe.profile.CompositeHooks;
import org.moescope.probe.profile.Profile;
import org.moescope.probe.profile.ProfileHooks;
import org.moescope.runtime.Sampler;
import org.moescope.runtime.SamplingOptions;
import org.moescope.runtime.Session;
import org.moescope.runtime.TextGenerator;
import org.moescope.runtime.TextModel;

/**
 * What {@code trace} does to one prompt, as a reusable step (the CLI and the Spark job run the
 * same code, so their rows are equal): encode (through the chat template when asked), run the
 * prompt, optionally generate greedily, and keep every token's routing and the requested captures.
 * One tracer per thread.
 */
public final class Tracer {
    /** One traced sequence: its tokens (prompt then generated), their text, and what was recorded. */
    public record Sequence(int[] tokens, String[] pieces, int promptLength, List<TraceRecorder.Route> routes, List<TraceRecorder.Capture> captures) {}

    private final TextModel model;
    private final TraceRecorder recorder;
    private final Hooks hooks;
    private final boolean chat;
    private final int generate;

    public Tracer(TextModel model, Profile profile, Set<HookPoint> captures, boolean chat, int generate) {
        this.model = model;
        this.recorder = new TraceRecorder(true, captures, model.file().config().layerCount());
        this.hooks = CompositeHooks.of(profile == null || profile.isEmpty() ? null : new ProfileHooks(profile, model.file().config()), recorder);
        this.chat = chat;
        this.generate = generate;
    }

    public Sequence trace(String prompt) {
        int[] ids = chat ? model.encodeUserMessage(null, prompt) : model.encodePrompt(prompt);
        recorder.reset();
        Session session = new Session(model.transformer(), ids.length + generate + 1, 512);
        session.setHooks(hooks);
        session.feed(ids, Batch.Phase.PROMPT);
        int[] all = ids;
        if (generate > 0) {
            var result = TextGenerator.generate(session, model.tokenizer(), generate,
                    new Sampler(SamplingOptions.GREEDY, model.file().config().vocabularySize()), List.of(), d -> true);
            // run the last sampled token too, so every stored token has its routing
            if (session.length() > ids.length && result.tokens().length > 0) session.feed(new int[0], Batch.Phase.GENERATED);
            all = session.tokens();
        } else {
            session.feed(new int[0], Batch.Phase.PROMPT); // the last prompt token waits for a next one: run it alone
        }
        String[] pieces = new String[all.length];
        for (int i = 0; i < all.length; i++) pieces[i] = model.tokenizer().piece(all[i]);
        return new Sequence(all, pieces, ids.length, List.copyOf(recorder.routes()), List.copyOf(recorder.captures()));
    }
}
