package org.moescope.model.hook;

/**
 * The tokens of one forward call: ids, absolute positions and whether they are prompt or generated
 * tokens. Hooks and routing rules use it to decide where they apply.
 */
public final class Batch {
    public enum Phase { PROMPT, GENERATED }

    private int[] tokens = new int[0];
    private int size;
    private int startPosition;
    private Phase phase = Phase.PROMPT;

    /** Refills the batch in place (no allocation once the arrays are large enough). */
    public Batch set(int[] source, int offset, int count, int startPosition, Phase phase) {
        if (tokens.length < count) tokens = new int[Math.max(count, 16)];
        System.arraycopy(source, offset, tokens, 0, count);
        this.size = count;
        this.startPosition = startPosition;
        this.phase = phase;
        return this;
    }

    /** Makes this batch the last {@code rows} tokens of {@code source} (e.g. the one whose logits are computed). */
    public Batch setTail(Batch source, int rows) {
        return set(source.tokens, source.size - rows, rows, source.startPosition + source.size - rows, source.phase);
    }

    public int size() { return size; }

    public int token(int t) { return tokens[t]; }

    public int position(int t) { return startPosition + t; }

    public int startPosition() { return startPosition; }

    public Phase phase() { return phase; }
}
