package org.moescope.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.Hooks;
import org.moescope.probe.profile.CompositeHooks;
import org.moescope.probe.profile.Profile;
import org.moescope.probe.profile.ProfileException;
import org.moescope.probe.profile.ProfileHooks;
import org.moescope.runtime.GenerationResult;
import org.moescope.runtime.RoutingRecorder;
import org.moescope.runtime.Sampler;
import org.moescope.runtime.SelfContrast;
import org.moescope.runtime.Session;
import org.moescope.runtime.TextGenerator;
import org.moescope.runtime.TextModel;
import org.moescope.text.tokenizer.Tokenizer;

/**
 * The engine behind the server: every request gets its own {@link Session} (its own KV cache and
 * hooks, so profiles never leak between requests) over the one shared model. Requests without a
 * profile or routing capture that decode at the same time share passes (one pass for up to
 * {@link Transformer#MAX_SHARED_DECODE} of them, each getting the bits it would get alone); the
 * others' passes interleave token by token.
 */
public final class ModelEngine implements Engine {
    private final TextModel model;
    private final String id;
    private final int context;
    private final Limits limits;
    private final Path vectorFolder;

    /**
     * @param vectorFolder the only folder steering vectors named in profiles may come from (the
     *                     server's --profiles folder), or null to refuse steering by file
     */
    public ModelEngine(TextModel model, String id, int context, Limits limits, Path vectorFolder) {
        this.model = model;
        this.id = id;
        this.context = context;
        this.limits = limits;
        this.vectorFolder = vectorFolder == null ? null : vectorFolder.toAbsolutePath().normalize();
    }

    public TextModel model() { return model; }

    @Override
    public String modelId() { return id; }

    @Override
    public int contextLength() { return context; }

    @Override
    public org.moescope.model.config.ModelConfig config() { return model.transformer().config(); }

    @Override
    public Completion complete(Request request, Sink sink) {
        int[] ids = encode(request);
        if (ids.length > limits.maxPromptTokens()) {
            throw ApiException.invalid(request.messages() != null ? "messages" : "prompt",
                    "the prompt has " + ids.length + " tokens; this server accepts at most " + limits.maxPromptTokens());
        }
        if (ids.length + 1 > context) {
            throw new ApiException(400, "invalid_request_error", request.messages() != null ? "messages" : "prompt", "context_length_exceeded",
                    "the prompt has " + ids.length + " tokens; the context holds " + context);
        }
        Profile profile = profile(request.profile());
        Transformer transformer = model.transformer();
        int layers = transformer.config().layerCount();
        Hooks interventions = hooks(profile);
        RoutingRecorder recorder = request.returnRouting() ? new RoutingRecorder(interventions, layers) : null;
        Session session = new Session(transformer, context, Math.min(512, context));
        session.setHooks(recorder != null ? recorder : interventions);
        if (profile.contrast() != null) {
            Session weak = new Session(transformer, context, Math.min(512, context));
            weak.setHooks(SelfContrast.weak(interventions, profile.contrast().weakTopK()));
            session.contrastWith(weak, (float) profile.contrast().alpha());
        }
        try {
            sink.start();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        session.feed(ids, Batch.Phase.PROMPT);
        Sampler sampler = new Sampler(request.sampling(), transformer.config().vocabularySize());
        int maxTokens = Math.min(request.maxTokens(), context - ids.length);
        boolean[] timedOut = {false};
        TextGenerator.Result result = TextGenerator.generate(session, model.tokenizer(), maxTokens, sampler, request.stop(), delta -> {
            if (System.nanoTime() > request.deadlineNanos()) timedOut[0] = true;
            return sink.accept(delta) && !timedOut[0];
        });
        String finish = result.stoppedByString() || result.stop() == GenerationResult.Stop.END_OF_GENERATION ? "stop" : "length";
        int completionTokens = result.tokens().length;
        if (completionTokens > 0 && model.tokenizer().endOfGeneration().contains(result.tokens()[completionTokens - 1])) completionTokens--;
        List<TokenRouting> routing = recorder == null ? null : routing(recorder, ids.length, result.tokens(), model.tokenizer());
        return new Completion(result.text(), finish, ids.length, completionTokens, routing);
    }

    @Override
    public String metrics() {
        Transformer t = model.transformer();
        return "# HELP moescope_shared_decode_passes_total Decoding passes that ran several requests' tokens at once.\n"
                + "# TYPE moescope_shared_decode_passes_total counter\n"
                + "moescope_shared_decode_passes_total " + t.sharedDecodePasses() + "\n"
                + "# HELP moescope_shared_decode_tokens_total Tokens decoded in shared passes.\n"
                + "# TYPE moescope_shared_decode_tokens_total counter\n"
                + "moescope_shared_decode_tokens_total " + t.sharedDecodeRows() + "\n";
    }

    private int[] encode(Request request) {
        try {
            if (request.messages() != null) {
                if (model.chatTemplate().isEmpty()) {
                    throw ApiException.invalid("messages", "this model has no chat template: use /v1/completions");
                }
                return model.encodeChat(request.messages(), true, Map.of());
            }
            return model.encodePrompt(request.prompt());
        } catch (ApiException e) {
            throw e;
        } catch (RuntimeException e) {
            // a template that raises (e.g. "roles must alternate") is the request's fault, not the server's
            throw ApiException.invalid(request.messages() != null ? "messages" : "prompt", "cannot render the prompt: " + e.getMessage());
        }
    }

    private Profile profile(JsonNode json) {
        if (json == null) return Profile.empty();
        Profile profile;
        try {
            profile = Profile.of(json, vectorFolder);
        } catch (ProfileException e) {
            throw ApiException.invalid("moescope.profile" + (e.path().isEmpty() ? "" : "." + e.path()), e.getMessage());
        }
        for (Profile.SteerRule s : profile.steer()) {
            String file = s.vector().contains("#") ? s.vector().substring(0, s.vector().indexOf('#')) : s.vector();
            if (vectorFolder == null) {
                throw ApiException.invalid("moescope.profile." + s.path() + ".vector", "steering vectors need the server started with --profiles DIR");
            }
            Path resolved = vectorFolder.resolve(file).normalize();
            if (Path.of(file).isAbsolute() || !resolved.startsWith(vectorFolder)) {
                throw ApiException.invalid("moescope.profile." + s.path() + ".vector", "vector files must lie inside the server's profiles folder");
            }
        }
        return profile;
    }

    private Hooks hooks(Profile profile) {
        if (profile.isEmpty()) return Hooks.NONE;
        try {
            return CompositeHooks.of(new ProfileHooks(profile, model.transformer().config()), null);
        } catch (ProfileException e) {
            throw ApiException.invalid("moescope.profile" + (e.path().isEmpty() ? "" : "." + e.path()), e.getMessage());
        } catch (RuntimeException e) {
            throw ApiException.invalid("moescope.profile", e.getMessage());
        }
    }

    /** The routing of each generated token that was run through the model (the last sampled one never is). */
    private static List<TokenRouting> routing(RoutingRecorder recorder, int promptLength, int[] tokens, Tokenizer tokenizer) {
        List<TokenRouting> out = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            RoutingRecorder.TokenRouting r = recorder.at(promptLength + i);
            if (r == null) break;
            out.add(new TokenRouting(tokenizer.decode(new int[] {tokens[i]}), r.experts(), r.weights()));
        }
        return out;
    }
}
