package org.moescope.text.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * SentencePiece-style BPE as llama.cpp's llm_tokenizer_spm runs it over a vocabulary with scores:
 * start from UTF-8 characters, repeatedly merge the adjacent pair whose concatenation is a token
 * with the highest score (leftmost first among equals); pieces left outside the vocabulary become
 * byte tokens {@code <0xNN>}.
 */
final class SpmModel {
    private final Map<String, Integer> vocabulary;
    private final float[] scores;
    private final int[] byteTokens = new int[256];
    private final int unknown;

    SpmModel(Map<String, Integer> vocabulary, float[] scores, int unknown) {
        this.vocabulary = vocabulary;
        this.scores = scores;
        this.unknown = unknown;
        for (int i = 0; i < 256; i++) byteTokens[i] = vocabulary.getOrDefault(String.format("<0x%02X>", i), -1);
    }

    void encode(String text, IntList out) {
        int n = 0;
        int[] start = new int[text.length()], end = new int[text.length()];
        for (int i = 0; i < text.length(); ) {
            int len = Character.charCount(text.codePointAt(i));
            start[n] = i;
            end[n] = i + len;
            n++;
            i += len;
        }
        int[] prev = new int[n], next = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // candidates ordered by score (higher first) then position: key = (~sortableScore << 32) | left
        LongHeap heap = new LongHeap();
        for (int i = 0; i + 1 < n; i++) candidate(heap, text, start, end, i, i + 1);
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int left = (int) (top & 0xFFFFFFFFL);
            int right = next[left];
            if (dead[left] || right < 0) continue;
            String merged = text.substring(start[left], end[right]);
            Integer id = vocabulary.get(merged);
            if (id == null || key(scores[id], left) != top) continue; // stale: the pair changed
            end[left] = end[right];
            dead[right] = true;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) candidate(heap, text, start, end, prev[left], left);
            if (next[left] >= 0) candidate(heap, text, start, end, left, next[left]);
        }
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            if (dead[i]) continue;
            String piece = text.substring(start[i], end[i]);
            Integer id = vocabulary.get(piece);
            if (id != null) {
                out.add(id);
            } else {
                for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                    int t = byteTokens[b & 0xFF];
                    out.add(t >= 0 ? t : unknown);
                }
            }
        }
    }

    private void candidate(LongHeap heap, String text, int[] start, int[] end, int left, int right) {
        Integer id = vocabulary.get(text.substring(start[left], end[right]));
        if (id != null) heap.push(key(scores[id], left));
    }

    /** Min-heap key: higher score first, then lower position. */
    private static long key(float score, int left) {
        int bits = Float.floatToIntBits(score);
        int sortable = bits >= 0 ? bits ^ 0x80000000 : ~bits; // monotone in score as unsigned
        long inverted = (~sortable) & 0xFFFFFFFFL;
        return (inverted << 32) | left;
    }
}
