package org.moescope.text.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before BPE: a sequence of regex splits with HF's "Isolated" behaviour
 * (matches and the text between them both become words, in order), as HF's Split pre-tokenizers
 * and llama.cpp's unicode_regex_split do. {@code \s}, {@code \d} and {@code \w} are Unicode-aware, as
 * in Oniguruma and llama.cpp.
 */
final class PreTokenizer {
    /** GPT-2's pattern (ByteLevel with use_regex). */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private final List<Pattern> patterns;

    PreTokenizer(List<String> regexes) {
        List<Pattern> p = new ArrayList<>();
        for (String r : regexes) p.add(Pattern.compile(r, Pattern.UNICODE_CHARACTER_CLASS));
        this.patterns = List.copyOf(p);
    }

    static PreTokenizer none() { return new PreTokenizer(List.of()); }

    boolean isEmpty() { return patterns.isEmpty(); }

    List<String> split(String text) {
        List<String> words = new ArrayList<>();
        words.add(text);
        for (Pattern p : patterns) {
            List<String> next = new ArrayList<>();
            for (String w : words) isolate(p, w, next);
            words = next;
        }
        return words;
    }

    private static void isolate(Pattern p, String text, List<String> out) {
        Matcher m = p.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.end() == m.start()) continue;
            if (m.start() > last) out.add(text.substring(last, m.start()));
            out.add(text.substring(m.start(), m.end()));
            last = m.end();
        }
        if (last < text.length()) out.add(text.substring(last));
    }
}
