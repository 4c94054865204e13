package org.moescope.text.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.moescope.format.FormatException;
import org.moescope.format.gguf.GgufMetadata;

/** Builds tokenizers from HF {@code tokenizer.json} folders and GGUF vocabularies. */
public final class Tokenizers {
    /** Token ids beyond this are refused (the largest real vocabularies hold about 260k). */
    static final int MAX_VOCABULARY = 1 << 24;

    private Tokenizers() {}

    // ---------------------------------------------------------------- Hugging Face

    /** tokenizer.json (+ tokenizer_config.json, generation_config.json, config.json for the BOS/EOS rules). */
    public static Tokenizer fromHuggingFaceFolder(Path folder) {
        Path file = folder.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) throw new FormatException(folder, "tokenizer.json is missing");
        JsonNode root = read(file);
        JsonNode config = Files.isRegularFile(folder.resolve("tokenizer_config.json")) ? read(folder.resolve("tokenizer_config.json")) : null;
        JsonNode generation = Files.isRegularFile(folder.resolve("generation_config.json")) ? read(folder.resolve("generation_config.json")) : null;
        JsonNode modelConfig = Files.isRegularFile(folder.resolve("config.json")) ? read(folder.resolve("config.json")) : null;
        return fromHuggingFace(file, root, config, generation, modelConfig);
    }

    private static JsonNode read(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new FormatException(file, "malformed JSON: " + e.getMessage(), e);
        }
    }

    static Tokenizer fromHuggingFace(Path file, JsonNode root, JsonNode config, JsonNode generation, JsonNode modelConfig) {
        JsonNode model = require(file, root, "model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) throw new FormatException(file, "model.type '" + type + "' is not supported (only BPE)");
        JsonNode vocabNode = require(file, model, "vocab");
        if (!vocabNode.isObject()) throw new FormatException(file, "model.vocab is not an object");
        Map<String, Integer> ids = new HashMap<>();
        int size = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0 || e.getValue().asInt() >= MAX_VOCABULARY) {
                throw new FormatException(file, "model.vocab['" + e.getKey() + "'] is not an id in 0.." + (MAX_VOCABULARY - 1));
            }
            ids.put(e.getKey(), e.getValue().asInt());
            size = Math.max(size, e.getValue().asInt() + 1);
        }
        List<SpecialToken> specials = new ArrayList<>();
        JsonNode added = root.path("added_tokens");
        if (!added.isMissingNode() && !added.isNull() && !added.isArray()) throw new FormatException(file, "added_tokens is not a list");
        for (int i = 0; i < added.size(); i++) {
            JsonNode a = added.get(i);
            if (!a.path("content").isTextual() || !a.path("id").canConvertToInt()) {
                throw new FormatException(file, "added_tokens[" + i + "] needs a string 'content' and an integer 'id'");
            }
            int id = a.get("id").asInt();
            if (id < 0 || id >= MAX_VOCABULARY) throw new FormatException(file, "added_tokens[" + i + "].id " + id + " is not in 0.." + (MAX_VOCABULARY - 1));
            ids.putIfAbsent(a.get("content").asText(), id);
            size = Math.max(size, id + 1);
            specials.add(new SpecialToken(a.get("content").asText(), id, a.path("special").asBoolean(false),
                    a.path("lstrip").asBoolean(false), a.path("rstrip").asBoolean(false), a.path("single_word").asBoolean(false)));
        }
        String[] tokens = new String[size];
        ids.forEach((t, id) -> { if (tokens[id] == null) tokens[id] = t; });
        List<String[]> merges = new ArrayList<>();
        JsonNode m = model.path("merges");
        if (!m.isMissingNode() && !m.isNull() && !m.isArray()) throw new FormatException(file, "model.merges is not a list");
        for (int i = 0; i < m.size(); i++) {
            JsonNode e = m.get(i);
            if (e.isTextual()) {
                String s = e.asText();
                int space = s.indexOf(' ', 1);
                if (space < 0) throw new FormatException(file, "model.merges[" + i + "] '" + s + "' is not two tokens separated by a space");
                merges.add(new String[] {s.substring(0, space), s.substring(space + 1)});
            } else if (e.isArray() && e.size() == 2) {
                merges.add(new String[] {e.get(0).asText(), e.get(1).asText()});
            } else {
                throw new FormatException(file, "model.merges[" + i + "] is neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
        int unk = model.path("unk_token").isTextual() ? ids.getOrDefault(model.get("unk_token").asText(), -1) : -1;
        BpeModel bpe = new BpeModel(ids, merges, model.path("byte_fallback").asBoolean(false), model.path("ignore_merges").asBoolean(false), unk);

        // pre-tokenizer: Split patterns and ByteLevel(use_regex) in order; Digits as a split too
        List<String> regexes = new ArrayList<>();
        boolean[] byteLevel = {false};
        boolean[] prefixSpace = {false};
        preTokenizer(file, root.path("pre_tokenizer"), "pre_tokenizer", regexes, byteLevel, prefixSpace);
        String normalization = normalizer(file, root.path("normalizer"));
        PieceTokenizer.Alphabet alphabet = byteLevel[0] || isByteLevelDecoder(root.path("decoder")) ? PieceTokenizer.Alphabet.BYTE_LEVEL
                : PieceTokenizer.Alphabet.SENTENCEPIECE;

        int bos = tokenOf(config, "bos_token", ids);
        int eos = tokenOf(config, "eos_token", ids);
        boolean addBos = config != null && config.path("add_bos_token").asBoolean(false);
        boolean addEos = config != null && config.path("add_eos_token").asBoolean(false);
        // TemplateProcessing post-processors say directly which special tokens go around a sequence
        JsonNode post = root.path("post_processor");
        if ("TemplateProcessing".equals(post.path("type").asText())) {
            JsonNode single = post.path("single");
            if (single.isArray() && single.size() > 0 && single.get(0).has("SpecialToken")) {
                addBos = true;
                bos = ids.getOrDefault(single.get(0).get("SpecialToken").path("id").asText(), bos);
            }
            if (single.isArray() && single.size() > 1 && single.get(single.size() - 1).has("SpecialToken")) {
                addEos = true;
                eos = ids.getOrDefault(single.get(single.size() - 1).get("SpecialToken").path("id").asText(), eos);
            }
        }
        Set<Integer> eog = new LinkedHashSet<>();
        for (JsonNode source : new JsonNode[] {generation, modelConfig}) {
            if (source == null || !eog.isEmpty()) continue;
            JsonNode e = source.path("eos_token_id");
            if (e.isArray()) e.forEach(v -> eog.add(v.asInt()));
            else if (e.canConvertToInt()) eog.add(e.asInt());
        }
        if (eos >= 0) eog.add(eos);
        var settings = new PieceTokenizer.Settings(alphabet, normalization, new PreTokenizer(regexes), prefixSpace[0], specials, bos, eos,
                addBos, addEos, Set.copyOf(eog));
        return new PieceTokenizer(tokens, ids, settings, bpe, null);
    }

    private static JsonNode require(Path file, JsonNode node, String field) {
        JsonNode n = node.get(field);
        if (n == null || n.isNull()) throw new FormatException(file, "field '" + field + "' is missing");
        return n;
    }

    private static void preTokenizer(Path file, JsonNode node, String path, List<String> regexes, boolean[] byteLevel, boolean[] prefixSpace) {
        if (node == null || node.isNull() || node.isMissingNode()) return;
        String type = node.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                JsonNode list = node.path("pretokenizers");
                for (int i = 0; i < list.size(); i++) preTokenizer(file, list.get(i), path + ".pretokenizers[" + i + "]", regexes, byteLevel, prefixSpace);
            }
            case "ByteLevel" -> {
                byteLevel[0] = true;
                prefixSpace[0] |= node.path("add_prefix_space").asBoolean(false);
                if (node.path("use_regex").asBoolean(true)) regexes.add(PreTokenizer.GPT2);
            }
            case "Split" -> {
                JsonNode pattern = node.path("pattern");
                String behavior = node.path("behavior").asText("Isolated");
                if (!behavior.equals("Isolated")) throw new FormatException(file, path + ".behavior '" + behavior + "' is not supported");
                if (node.path("invert").asBoolean(false)) throw new FormatException(file, path + ".invert is not supported");
                if (pattern.has("Regex")) {
                    String regex = pattern.get("Regex").asText();
                    try {
                        java.util.regex.Pattern.compile(regex, java.util.regex.Pattern.UNICODE_CHARACTER_CLASS);
                    } catch (java.util.regex.PatternSyntaxException e) {
                        throw new FormatException(file, path + ".pattern.Regex is not a valid regular expression: " + e.getDescription());
                    }
                    regexes.add(regex);
                }
                else if (pattern.has("String")) regexes.add(java.util.regex.Pattern.quote(pattern.get("String").asText()));
                else throw new FormatException(file, path + ".pattern needs Regex or String");
            }
            case "Digits" -> regexes.add(node.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+");
            default -> throw new FormatException(file, path + ".type '" + type + "' is not supported");
        }
    }

    private static String normalizer(Path file, JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) return null;
        String type = node.path("type").asText();
        return switch (type) {
            case "NFC", "NFD", "NFKC", "NFKD" -> type;
            case "Sequence" -> {
                String form = null;
                for (JsonNode n : node.path("normalizers")) {
                    String f = normalizer(file, n);
                    if (f != null) form = f;
                }
                yield form;
            }
            default -> throw new FormatException(file, "normalizer type '" + type + "' is not supported");
        };
    }

    private static boolean isByteLevelDecoder(JsonNode decoder) {
        if ("ByteLevel".equals(decoder.path("type").asText())) return true;
        for (JsonNode d : decoder.path("decoders")) if (isByteLevelDecoder(d)) return true;
        return false;
    }

    private static int tokenOf(JsonNode config, String field, Map<String, Integer> ids) {
        if (config == null) return -1;
        JsonNode n = config.path(field);
        String text = n.isTextual() ? n.asText() : n.path("content").asText(null);
        return text == null ? -1 : ids.getOrDefault(text, -1);
    }

    // ---------------------------------------------------------------- GGUF

    private static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** Token texts llama.cpp treats as end-of-generation when they are control tokens (llama-vocab.cpp). */
    private static final Set<String> EOG_TEXTS = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
            "<|return|>", "<|call|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "</s>");

    public static Tokenizer fromGguf(Path file, GgufMetadata metadata) {
        String model = metadata.getString("tokenizer.ggml.model").orElseThrow(() ->
                new FormatException(file, "metadata 'tokenizer.ggml.model' is missing: the file holds no tokenizer"));
        String[] tokens = metadata.getStrings("tokenizer.ggml.tokens").orElseThrow(() ->
                new FormatException(file, "metadata 'tokenizer.ggml.tokens' is missing"));
        int[] types = metadata.getInts("tokenizer.ggml.token_type").orElse(null);
        Map<String, Integer> ids = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) ids.putIfAbsent(tokens[i], i);
        List<SpecialToken> specials = new ArrayList<>();
        if (types != null) {
            if (types.length != tokens.length) {
                throw new FormatException(file, "metadata 'tokenizer.ggml.token_type' has " + types.length + " entries for " + tokens.length + " tokens");
            }
            for (int i = 0; i < tokens.length; i++) {
                if (types[i] == CONTROL || types[i] == USER_DEFINED) {
                    specials.add(new SpecialToken(tokens[i], i, types[i] == CONTROL, false, false, false));
                }
            }
        }
        int bos = metadata.getInt("tokenizer.ggml.bos_token_id", -1);
        int eos = metadata.getInt("tokenizer.ggml.eos_token_id", -1);
        int unk = metadata.getInt("tokenizer.ggml.unknown_token_id", -1);
        Set<Integer> eog = new LinkedHashSet<>();
        if (eos >= 0) eog.add(eos);
        for (String key : new String[] {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
            int id = metadata.getInt(key, -1);
            if (id >= 0) eog.add(id);
        }
        if (types != null) {
            for (int i = 0; i < tokens.length; i++) if (types[i] == CONTROL && EOG_TEXTS.contains(tokens[i])) eog.add(i);
        }
        switch (model) {
            case "gpt2" -> {
                String pre = metadata.getString("tokenizer.ggml.pre").orElse("default");
                List<String[]> merges = new ArrayList<>();
                for (String m : metadata.getStrings("tokenizer.ggml.merges").orElseThrow(() ->
                        new FormatException(file, "metadata 'tokenizer.ggml.merges' is missing"))) {
                    int space = m.indexOf(' ', 1);
                    if (space < 0) throw new FormatException(file, "tokenizer.ggml.merges entry '" + m + "' is not two tokens");
                    merges.add(new String[] {m.substring(0, space), m.substring(space + 1)});
                }
                BpeModel bpe = new BpeModel(ids, merges, false, pre.equals("llama-bpe") || pre.equals("llama3"), unk);
                boolean addBos = metadata.getBool("tokenizer.ggml.add_bos_token").orElse(false);
                boolean addEos = metadata.getBool("tokenizer.ggml.add_eos_token").orElse(false);
                var settings = new PieceTokenizer.Settings(PieceTokenizer.Alphabet.BYTE_LEVEL, null,
                        new PreTokenizer(PreTokenizerRules.forGguf(file, pre)), false, specials, bos, eos, addBos, addEos, Set.copyOf(eog));
                return new PieceTokenizer(tokens, ids, settings, bpe, null);
            }
            case "llama" -> {
                float[] scores = metadata.getFloats("tokenizer.ggml.scores").orElseThrow(() ->
                        new FormatException(file, "metadata 'tokenizer.ggml.scores' is missing"));
                boolean addBos = metadata.getBool("tokenizer.ggml.add_bos_token").orElse(true);
                boolean addEos = metadata.getBool("tokenizer.ggml.add_eos_token").orElse(false);
                boolean prefix = metadata.getBool("tokenizer.ggml.add_space_prefix").orElse(true);
                var settings = new PieceTokenizer.Settings(PieceTokenizer.Alphabet.SENTENCEPIECE, null, PreTokenizer.none(), prefix, specials,
                        bos, eos, addBos, addEos, Set.copyOf(eog));
                return new PieceTokenizer(tokens, ids, settings, null, new SpmModel(ids, scores, unk >= 0 ? unk : 0));
            }
            default -> throw new FormatException(file, "metadata 'tokenizer.ggml.model' = '" + model + "' is not supported (gpt2, llama)");
        }
    }
}
