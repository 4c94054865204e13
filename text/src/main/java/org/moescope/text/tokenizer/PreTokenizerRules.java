package org.moescope.text.tokenizer;

import java.nio.file.Path;
import java.util.List;

import org.moescope.format.FormatException;

/**
 * The pre-tokenizer regexes for GGUF {@code tokenizer.ggml.pre} values: the patterns of the
 * models' own tokenizer.json files as llama.cpp's llm_tokenizer_bpe lists them (src/llama-vocab.cpp),
 * applied in order, each splitting the pieces of the previous.
 */
final class PreTokenizerRules {
    private PreTokenizerRules() {}

    static final List<String> GPT2 = List.of(
                    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)");

    static final List<String> LLAMA3 = List.of(
                    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    static final List<String> QWEN2 = List.of(
                    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    static final List<String> DEEPSEEK_LLM = List.of(
                    "[\r\n]",
                    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
                    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
                    "\\s+$",
                    "[一-龥ࠀ-一가-퟿]+",
                    "\\p{N}+");

    static final List<String> DEEPSEEK3_LLM = List.of(
                    "\\p{N}{1,3}",
                    "[一-龥぀-ゟ゠-ヿ]+",
                    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+");

    static final List<String> DEEPSEEK_CODER = List.of(
                    "[\r\n]",
                    "\\s?\\p{L}+",
                    "\\s?\\p{P}+",
                    "[一-龥ࠀ-一가-퟿]+",
                    "\\p{N}");

    static final List<String> FALCON = List.of(
                    "[\\p{P}\\$\\+<=>\\^~\\|`]+",
                    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
                    "[0-9][0-9][0-9]");

    static final List<String> STARCODER = List.of(
                    "\\p{N}",
                    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)");

    static final List<String> PORO = List.of(
                    " ?[^(\\s|.,!?…。，、।۔،)]+");

    static final List<String> CHATGLM4 = List.of(
                    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    static final List<String> VIKING = List.of(
                    " ?[^(\\s|.,!?…。，、।۔،)]+",
                    "\\p{N}");

    static List<String> forGguf(Path file, String pre) {
        return switch (pre) {
            case "default", "gpt-2", "mpt", "olmo", "jais", "trillion", "granite-docling" -> GPT2;
            case "llama3", "llama-bpe", "dbrx", "smaug-bpe", "falcon3", "pixtral", "jais-2" -> LLAMA3;
            case "qwen2", "stablelm2", "hunyuan", "megrez", "solar-open" -> QWEN2;
            case "deepseek-llm" -> DEEPSEEK_LLM;
            case "deepseek-v3", "hunyuan-dense", "joyai-llm" -> DEEPSEEK3_LLM;
            case "deepseek-coder" -> DEEPSEEK_CODER;
            case "falcon" -> FALCON;
            case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2" -> STARCODER;
            case "poro-chat", "bloom", "gpt3-finnish" -> PORO;
            case "chatglm-bpe" -> CHATGLM4;
            case "viking" -> VIKING;
            default -> throw new FormatException(file, "metadata 'tokenizer.ggml.pre' = '" + pre + "' is not a supported pre-tokenizer");
        };
    }
}
