package org.moescope.text.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair encoding of one pre-tokenized word (Sennrich et al. 2016; as HF tokenizers' BPE model
 * and llama.cpp's llm_tokenizer_bpe): start from single characters, repeatedly merge the adjacent
 * pair of lowest merge rank (leftmost first among equals). A heap of candidate pairs with lazy
 * invalidation keeps a word of n characters at O(n log n), so a megabyte of spaces is fine.
 */
final class BpeModel {
    private final Map<String, Integer> vocabulary;
    private final HashMap<Long, Long> merges; // (left << 32 | right) -> (rank << 32 | merged)
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    private final int unknown;
    private final int[] byteTokens;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /** @param merges pairs in rank order; pairs whose parts or result are not in the vocabulary are skipped */
    BpeModel(Map<String, Integer> vocabulary, Iterable<String[]> merges, boolean byteFallback, boolean ignoreMerges, int unknown) {
        this.vocabulary = vocabulary;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.unknown = unknown;
        this.merges = new HashMap<>();
        int rank = 0;
        for (String[] m : merges) {
            Integer a = vocabulary.get(m[0]), b = vocabulary.get(m[1]), ab = vocabulary.get(m[0] + m[1]);
            if (a != null && b != null && ab != null) {
                this.merges.putIfAbsent(((long) a << 32) | (b & 0xFFFFFFFFL), ((long) rank << 32) | (ab & 0xFFFFFFFFL));
            }
            rank++;
        }
        byteTokens = new int[256];
        for (int i = 0; i < 256; i++) byteTokens[i] = vocabulary.getOrDefault(String.format("<0x%02X>", i), -1);
    }

    void encode(String word, IntList out) {
        if (word.isEmpty()) return;
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = encodeUncached(word);
            if (word.length() < 256) {
                if (cache.size() > 200_000) cache.clear();
                cache.put(word, cached);
            }
        }
        out.addAll(cached);
    }

    private int[] encodeUncached(String word) {
        if (ignoreMerges) {
            Integer whole = vocabulary.get(word);
            if (whole != null) return new int[] {whole};
        }
        // initial symbols: one per code point (or its fallback bytes)
        IntList ids = new IntList();
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int n = Character.charCount(cp);
            Integer id = vocabulary.get(word.substring(i, i + n));
            if (id != null) {
                ids.add(id);
            } else if (byteFallback && byteTokens[0] >= 0) {
                for (byte b : word.substring(i, i + n).getBytes(StandardCharsets.UTF_8)) ids.add(byteTokens[b & 0xFF]);
            } else if (unknown >= 0) {
                ids.add(unknown);
            }
            i += n;
        }
        int n = ids.size();
        int[] symbol = ids.toArray();
        int[] prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap heap = new LongHeap();
        for (int i = 0; i + 1 < n; i++) candidate(heap, symbol, i, i + 1);
        int alive = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int left = (int) (top & 0xFFFFFFFFL);
            int rank = (int) (top >>> 32);
            int right = next[left];
            if (symbol[left] < 0 || right < 0) continue;
            Long merge = merges.get(((long) symbol[left] << 32) | (symbol[right] & 0xFFFFFFFFL));
            if (merge == null || (int) (merge >>> 32) != rank) continue; // stale candidate
            symbol[left] = (int) (merge & 0xFFFFFFFFL);
            symbol[right] = -1;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            alive--;
            if (prev[left] >= 0) candidate(heap, symbol, prev[left], left);
            if (next[left] >= 0) candidate(heap, symbol, left, next[left]);
        }
        int[] result = new int[alive];
        int k = 0;
        for (int i = 0; i >= 0 && i < n; i = next[i]) if (symbol[i] >= 0) result[k++] = symbol[i];
        return k == alive ? result : java.util.Arrays.copyOf(result, k);
    }

    private void candidate(LongHeap heap, int[] symbol, int left, int right) {
        Long merge = merges.get(((long) symbol[left] << 32) | (symbol[right] & 0xFFFFFFFFL));
        if (merge != null) heap.push((merge >>> 32) << 32 | left);
    }
}
