package org.moescope.text.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.testkit.SharedFiles;

/** decode(encode(x)) == x for ugly text, for byte-level BPE tokenizers; the streaming decoder never splits a character. */
class RoundTripTest {
    static final List<String> UGLY = List.of(
            "👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽 thumbs",
            "中文字符，日本語のテキスト、한국어 텍스트",
            "e\u0301 a\u0308 combining: Z\u0351\u0313a\u0307\u0352l\u0350g\u0357o",
            "control: \u0000\u0001\u0007\u001b[31m red \u007f \u0085 \u2028 \u2029",
            "tabs\tand\r\nwindows\r\nlines\n\n\n   trailing   ",
            "mixed 123456789 numbers 3.14159 and -0.5e10",
            "'s 'T 'Re \"quotes\" ‘curly’ «guillemets»",
            "\uFEFFbom and zero\u200Bwidth\u200Djoiners",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙 𐐀𐐁 surrogate pairs",
            "");

    static Stream<Tokenizer> byteLevelTokenizers() {
        return Stream.of(Tokenizers.fromHuggingFaceFolder(SharedFiles.require("fixtures/tokenizers/hf/qwen3")),
                Tokenizers.fromHuggingFaceFolder(SharedFiles.require("fixtures/tokenizers/hf/deepseek-v3")),
                ModelTokenizerTest.load("mini-moe", false), ModelTokenizerTest.load("mini-moe", true));
    }

    @ParameterizedTest
    @MethodSource("byteLevelTokenizers")
    void uglyTextRoundTrips(Tokenizer t) {
        for (String text : UGLY) {
            int[] ids = t.encode(text, false, false);
            // Qwen's tokenizer.json normalises to NFC (as HF does): its round trip is exact up to that
            String expected = t.vocabularySize() > 150_000 ? java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFC) : text;
            text = expected;
            assertThat(t.decode(ids)).as(VocabularyVectorsTest.quote(text)).isEqualTo(expected);
            StringBuilder streamed = new StringBuilder();
            StreamingDecoder d = t.streamingDecoder();
            for (int id : ids) {
                String piece = d.next(id);
                for (int i = 0; i < piece.length(); i++) assertThat(piece.charAt(i)).as("no replacement characters while streaming").isNotEqualTo('\uFFFD');
                streamed.append(piece);
            }
            streamed.append(d.flush());
            assertThat(streamed.toString()).isEqualTo(text);
        }
    }

    @ParameterizedTest
    @MethodSource("byteLevelTokenizers")
    void megabyteOfWhitespaceRoundTrips(Tokenizer t) {
        String text = " \t\n".repeat(1 << 18) + "end" + " ".repeat(1 << 18);
        assertThat(text.length()).isGreaterThan(1_000_000);
        assertThat(t.decode(t.encode(text, false, false))).isEqualTo(text);
    }

    @Test
    void loneSurrogatesBecomeReplacementCharacters() {
        Tokenizer t = ModelTokenizerTest.load("mini-moe", false);
        String text = "a\uD800b\uDC00c\uD83D";
        assertThat(t.decode(t.encode(text, false, false))).isEqualTo("a\uFFFDb\uFFFDc\uFFFD");
    }

    @Test
    void streamingDecoderHoldsPartialCharacters() {
        Tokenizer t = ModelTokenizerTest.load("mini-moe", false);
        // the 4-byte emoji is split over several byte tokens in a small vocabulary
        int[] ids = t.encode("🦀", false, false);
        assertThat(ids.length).isGreaterThan(1);
        StreamingDecoder d = t.streamingDecoder();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < ids.length - 1; i++) out.append(d.next(ids[i]));
        assertThat(out.toString()).isEmpty();
        assertThat(d.next(ids[ids.length - 1])).isEqualTo("🦀");
    }

    @Test
    void sentencePieceRoundTripsWhatItCanRepresent() {
        Tokenizer t;
        var file = SharedFiles.require("fixtures/tokenizers/llama-cpp-vocab/ggml-vocab-llama-spm.gguf");
        try (var g = org.moescope.format.gguf.GgufFile.open(file)) {
            t = Tokenizers.fromGguf(file, g.metadata());
        }
        // byte fallback covers every character; the leading space SentencePiece adds is removed again
        for (String text : List.of("Hello world", "中文 🦀 e\u0301", "  two leading spaces", "tabs\tnewlines\n")) {
            assertThat(t.decode(t.encode(text, false, false))).isEqualTo(text);
        }
    }
}
