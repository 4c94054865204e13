package org.moescope.runtime;

import java.util.Arrays;
import java.util.Set;

import org.moescope.model.forward.KvCache;
import org.moescope.model.forward.State;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.Hooks;

/**
 * One sequence being run through a model: its KV cache and buffers, the tokens so far, and the
 * prefill/decode loop. Prefill goes in batches of up to {@code maxBatch} tokens; decode one token
 * at a time through the cache. The last generated token is run through the model only when more
 * follows (it is "pending" until then), which saves a forward pass per generation.
 * Not thread-safe: one session per conversation or request.
 */
public final class Session {
    private final Transformer model;
    private final State state;
    private final Batch batch = new Batch();
    private final float[] logits;
    private int[] tokens = new int[256];
    private int length;
    private int pending = -1;
    private Hooks hooks = Hooks.NONE;
    private Session weak;
    private float alpha;
    private float[] contrasted;

    public Session(Transformer model, int contextLength, int maxBatch) {
        this(model, contextLength, maxBatch, KvCache.Precision.F32);
    }

    public Session(Transformer model, int contextLength, int maxBatch, KvCache.Precision cachePrecision) {
        this.model = model;
        this.state = model.newState(Math.max(1, Math.min(maxBatch, contextLength)), contextLength, cachePrecision);
        this.logits = new float[model.config().vocabularySize()];
    }

    public Transformer model() { return model; }

    /** Tokens in the sequence, including a pending one. */
    public int length() { return length + (pending >= 0 ? 1 : 0); }

    public int contextLength() { return state.contextLength(); }

    public int[] tokens() {
        int[] all = Arrays.copyOf(tokens, length());
        if (pending >= 0) all[length] = pending;
        return all;
    }

    public void setHooks(Hooks hooks) { this.hooks = hooks == null ? Hooks.NONE : hooks; }

    public Hooks hooks() { return hooks; }

    /**
     * Self-contrast decoding: {@code weak} (a session over the same model whose hooks select fewer
     * experts, see {@link SelfContrast#weak}) is fed every token this session is fed, and sampling
     * uses (1 + α)·logits − α·weak logits.
     */
    public void contrastWith(Session weak, float alpha) {
        if (weak.length() != 0 || length() != 0) throw new IllegalStateException("set up contrast before feeding tokens");
        this.weak = weak;
        this.alpha = alpha;
        this.contrasted = new float[logits.length];
    }

    /** The next-token logits after the last token run through the model (contrasted, under self-contrast). */
    public float[] logits() {
        if (weak == null) return logits;
        System.arraycopy(logits, 0, contrasted, 0, logits.length);
        SelfContrast.combine(contrasted, weak.logits, alpha, logits.length);
        return contrasted;
    }

    /** Forgets everything from position {@code length} on. */
    public void rewind(int length) {
        if (length > this.length) throw new IllegalArgumentException("cannot rewind forward to " + length);
        if (weak != null) weak.rewind(length);
        pending = -1;
        state.rewind(length);
        this.length = length;
    }

    /** Feeds tokens and leaves the next-token logits in {@link #logits()}. */
    public void feed(int[] ids, int offset, int count, Batch.Phase phase) {
        if (pending >= 0) {
            int p = pending;
            pending = -1;
            run(new int[] {p}, 0, 1, Batch.Phase.GENERATED);
        }
        run(ids, offset, count, phase);
    }

    public void feed(int[] ids, Batch.Phase phase) { feed(ids, 0, ids.length, phase); }

    private void run(int[] ids, int offset, int count, Batch.Phase phase) {
        if (count == 0) return;
        if (weak != null) weak.run(ids, offset, count, phase);
        if (length + count > state.contextLength()) throw new Transformer.ContextFullException(length + count, state.contextLength());
        if (length + count > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, length + count));
        for (int done = 0; done < count; ) {
            int n = Math.min(state.maxBatch(), count - done);
            System.arraycopy(ids, offset + done, tokens, length, n);
            batch.set(tokens, length, n, length, phase);
            model.forward(state, batch, hooks, logits, false);
            length += n;
            done += n;
        }
    }

    /**
     * Generates up to {@code maxTokens} tokens after what has been fed. Stops after an
     * end-of-generation token (reported to the listener and kept), when the listener returns false,
     * or when the context is full.
     */
    public GenerationResult generate(int maxTokens, Sampler sampler, Set<Integer> endOfGeneration, TokenListener listener) {
        if (length == 0 && pending < 0) throw new IllegalStateException("feed a prompt before generating");
        int produced = 0;
        int[] one = new int[1];
        while (produced < maxTokens) {
            if (pending >= 0) {
                one[0] = pending;
                pending = -1;
                run(one, 0, 1, Batch.Phase.GENERATED);
            }
            if (length >= state.contextLength()) return new GenerationResult(produced, GenerationResult.Stop.CONTEXT);
            int next = sampler.sample(logits(), 0, tokens, length);
            produced++;
            pending = next;
            if (length + 1 > tokens.length) tokens = Arrays.copyOf(tokens, tokens.length * 2);
            tokens[length] = next; // visible to the repetition penalty through length() callers
            boolean go = listener.onToken(next);
            if (endOfGeneration.contains(next)) return new GenerationResult(produced, GenerationResult.Stop.END_OF_GENERATION);
            if (!go) return new GenerationResult(produced, GenerationResult.Stop.STOPPED);
        }
        return new GenerationResult(produced, GenerationResult.Stop.LENGTH);
    }

    /** A listener of generated tokens; returns false to stop. */
    @FunctionalInterface
    public interface TokenListener {
        boolean onToken(int token);
    }
}
