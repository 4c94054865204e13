package org.moescope.runtime;

import java.util.List;
import java.util.Set;

import org.moescope.text.tokenizer.StreamingDecoder;
import org.moescope.text.tokenizer.Tokenizer;

/**
 * Generation as text: tokens from a {@link Session} decoded as they come, stop strings honoured
 * (text that might be the start of a stop string is held back until it is known not to be), and
 * the end-of-generation token's own text never shown.
 */
public final class TextGenerator {
    /** Receives text as it becomes final; returns false to stop. */
    @FunctionalInterface
    public interface TextListener {
        boolean onText(String delta);
    }

    /** What happened: the text, its tokens, and why it ended. */
    public record Result(String text, int[] tokens, GenerationResult.Stop stop, boolean stoppedByString) {}

    private TextGenerator() {}

    /** Generates after whatever {@code session} has been fed. */
    public static Result generate(Session session, Tokenizer tokenizer, int maxTokens, Sampler sampler, List<String> stops,
                                  TextListener listener) {
        StreamingDecoder decoder = tokenizer.streamingDecoder();
        Set<Integer> eog = tokenizer.endOfGeneration();
        StringBuilder text = new StringBuilder();
        int[] emitted = {0};
        boolean[] stoppedByString = {false};
        boolean[] listenerStopped = {false};
        java.util.List<Integer> tokens = new java.util.ArrayList<>();
        GenerationResult result = session.generate(maxTokens, sampler, eog, token -> {
            tokens.add(token);
            if (eog.contains(token)) return true;
            text.append(decoder.next(token));
            int stopAt = firstStop(text, stops);
            if (stopAt >= 0) {
                text.setLength(stopAt);
                stoppedByString[0] = true;
            }
            int safe = stoppedByString[0] ? text.length() : text.length() - longestStopPrefixSuffix(text, stops);
            if (safe > emitted[0]) {
                if (!listener.onText(text.substring(emitted[0], safe))) listenerStopped[0] = true;
                emitted[0] = safe;
            }
            return !stoppedByString[0] && !listenerStopped[0];
        });
        if (!stoppedByString[0]) {
            text.append(decoder.flush());
            if (text.length() > emitted[0]) listener.onText(text.substring(emitted[0]));
        }
        return new Result(text.toString(), tokens.stream().mapToInt(Integer::intValue).toArray(), result.stop(), stoppedByString[0]);
    }

    private static int firstStop(StringBuilder text, List<String> stops) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** How many trailing characters could still grow into a stop string. */
    private static int longestStopPrefixSuffix(StringBuilder text, List<String> stops) {
        int longest = 0;
        for (String s : stops) {
            for (int n = Math.min(s.length() - 1, text.length()); n > longest; n--) {
                if (text.substring(text.length() - n).equals(s.substring(0, n))) {
                    longest = n;
                    break;
                }
            }
        }
        return longest;
    }
}
