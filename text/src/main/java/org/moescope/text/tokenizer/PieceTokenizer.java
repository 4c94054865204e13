package org.moescope.text.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The tokenizer pipeline of HF tokenizers and llama.cpp: special tokens are split out first, the
 * text between them is normalised, pre-tokenized into words, mapped to the model's alphabet (GPT-2
 * byte characters, or SentencePiece's ▁ for spaces) and encoded by BPE; then BOS/EOS by the
 * model's rule. Decoding reverses the alphabet mapping and decodes UTF-8.
 */
final class PieceTokenizer implements Tokenizer {
    enum Alphabet { BYTE_LEVEL, SENTENCEPIECE }

    /** Everything that distinguishes one tokenizer from another. */
    record Settings(Alphabet alphabet, String normalization /* null, "NFC", "NFKC", ... */, PreTokenizer preTokenizer,
                    boolean addPrefixSpace, List<SpecialToken> specials, int bos, int eos, boolean addBos, boolean addEos,
                    Set<Integer> endOfGeneration) {}

    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final byte[][] tokenBytes;
    private final Settings settings;
    private final BpeModel bpe;
    private final SpmModel spm;
    private final List<SpecialToken> specials;
    private final boolean[] isSpecial;

    PieceTokenizer(String[] tokens, Map<String, Integer> ids, Settings settings, BpeModel bpe, SpmModel spm) {
        this.tokens = tokens;
        this.ids = ids;
        this.settings = settings;
        this.bpe = bpe;
        this.spm = spm;
        List<SpecialToken> s = new ArrayList<>(settings.specials());
        s.sort(Comparator.comparingInt((SpecialToken t) -> t.content().length()).reversed());
        this.specials = List.copyOf(s);
        this.isSpecial = new boolean[tokens.length];
        for (SpecialToken t : s) if (t.id() >= 0 && t.id() < tokens.length) isSpecial[t.id()] = true;
        this.tokenBytes = new byte[tokens.length][];
        for (int i = 0; i < tokens.length; i++) tokenBytes[i] = computeBytes(i);
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        text = replaceLoneSurrogates(text);
        IntList out = new IntList();
        if (addSpecial && settings.addBos() && settings.bos() >= 0) out.add(settings.bos());
        boolean previousSpecial = true;
        for (Fragment f : partition(text, parseSpecial)) {
            if (f.token >= 0) {
                out.add(f.token);
                previousSpecial = true;
                continue;
            }
            encodeText(f.text, previousSpecial, out);
            previousSpecial = false;
        }
        if (addSpecial && settings.addEos() && settings.eos() >= 0) out.add(settings.eos());
        return out.toArray();
    }

    private void encodeText(String text, boolean afterSpecial, IntList out) {
        if (text.isEmpty()) return;
        String t = settings.normalization() == null ? text : Normalizer.normalize(text, Normalizer.Form.valueOf(settings.normalization()));
        if (settings.alphabet() == Alphabet.SENTENCEPIECE) {
            // llama.cpp: a space before the first piece and after each special token, then ' ' -> '▁'
            String s = (settings.addPrefixSpace() && afterSpecial ? " " : "") + t;
            s = s.replace(' ', '\u2581');
            // GGUF 'llama' vocabularies score pieces (spm); HF BPE with Metaspace merges them (bpe, with byte fallback)
            if (settings.preTokenizer().isEmpty()) {
                if (spm != null) spm.encode(s, out); else bpe.encode(s, out);
            } else {
                for (String w : settings.preTokenizer().split(s)) {
                    if (spm != null) spm.encode(w, out); else bpe.encode(w, out);
                }
            }
            return;
        }
        if (settings.addPrefixSpace() && afterSpecial && !t.startsWith(" ")) t = " " + t;
        for (String word : settings.preTokenizer().split(t)) bpe.encode(ByteLevel.encode(word), out);
    }

    private record Fragment(String text, int token) {}

    /** Splits out special tokens, longest first, as llama.cpp's tokenizer_st_partition. */
    private List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        fragments.add(new Fragment(text, -1));
        for (SpecialToken s : specials) {
            if (s.control() && !parseSpecial) continue;
            List<Fragment> next = new ArrayList<>();
            for (Fragment f : fragments) {
                if (f.token >= 0) {
                    next.add(f);
                    continue;
                }
                String rest = f.text;
                int from = 0;
                while (true) {
                    int at = rest.indexOf(s.content(), from);
                    if (at < 0) break;
                    int end = at + s.content().length();
                    if (s.singleWord() && ((at > 0 && isWordChar(rest.charAt(at - 1))) || (end < rest.length() && isWordChar(rest.charAt(end))))) {
                        from = at + 1;
                        continue;
                    }
                    int left = at;
                    if (s.lstrip()) while (left > 0 && Character.isWhitespace(rest.charAt(left - 1))) left--;
                    int right = end;
                    if (s.rstrip()) while (right < rest.length() && Character.isWhitespace(rest.charAt(right))) right++;
                    if (left > 0) next.add(new Fragment(rest.substring(0, left), -1));
                    next.add(new Fragment(s.content(), s.id()));
                    rest = rest.substring(right);
                    from = 0;
                }
                if (!rest.isEmpty()) next.add(new Fragment(rest, -1));
            }
            fragments = next;
        }
        return fragments;
    }

    /**
     * A Java string may hold unpaired UTF-16 surrogates, which have no UTF-8 form: they become
     * U+FFFD, as Python's "replace" error handler would have it (and as decoding invalid bytes does).
     */
    static String replaceLoneSurrogates(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean lone = Character.isHighSurrogate(c) ? i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1))
                    : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(text.charAt(i - 1)));
            if (lone) {
                if (sb == null) sb = new StringBuilder(text.substring(0, i));
                sb.append('\uFFFD');
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    private static boolean isWordChar(char c) { return Character.isLetterOrDigit(c) || c == '_'; }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean atStart = true;
        for (int id : ids) {
            byte[] b = bytes(id);
            int skip = 0;
            // SentencePiece: the space added before the first piece is not part of the text
            if (atStart && !isSpecial[id] && settings.alphabet() == Alphabet.SENTENCEPIECE && settings.addPrefixSpace()
                    && b.length > 0 && b[0] == ' ') {
                skip = 1;
            }
            bytes.write(b, skip, b.length - skip);
            if (!isSpecial[id]) atStart = false;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] bytes(int id) {
        if (id < 0 || id >= tokens.length) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + tokens.length);
        return tokenBytes[id];
    }

    private byte[] computeBytes(int id) {
        String t = tokens[id];
        if (t == null) return new byte[0];
        if (isSpecial[id]) return t.getBytes(StandardCharsets.UTF_8);
        if (settings.alphabet() == Alphabet.SENTENCEPIECE) {
            if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                try {
                    return new byte[] {(byte) Integer.parseInt(t.substring(3, 5), 16)};
                } catch (NumberFormatException e) {
                    // an ordinary token that merely looks like a byte token
                }
            }
            return t.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
        }
        byte[] b = ByteLevel.decode(t);
        if (b != null) return b;
        if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) return new byte[] {(byte) Integer.parseInt(t.substring(3, 5), 16)};
        return t.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String piece(int id) { return new String(bytes(id), StandardCharsets.UTF_8); }

    @Override
    public int vocabularySize() { return tokens.length; }

    @Override
    public OptionalInt bos() { return settings.bos() >= 0 ? OptionalInt.of(settings.bos()) : OptionalInt.empty(); }

    @Override
    public OptionalInt eos() { return settings.eos() >= 0 ? OptionalInt.of(settings.eos()) : OptionalInt.empty(); }

    @Override
    public Set<Integer> endOfGeneration() { return settings.endOfGeneration(); }

    @Override
    public OptionalInt tokenId(String piece) {
        Integer id = ids.get(piece);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public StreamingDecoder streamingDecoder() { return new StreamingDecoder(this); }

    /** The stored text of a token (in the model's alphabet). */
    String token(int id) { return tokens[id]; }
}
