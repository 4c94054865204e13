package org.moescope.text.tokenizer;

import java.util.OptionalInt;
import java.util.Set;

/** Text to token ids and back, exactly as the model was trained. Thread-safe. */
public interface Tokenizer {
    /**
     * @param addSpecial   add the tokens the model's rule adds (BOS, EOS) around the text
     * @param parseSpecial recognise control tokens written in the text ({@code <|im_start|>}); user-defined
     *                     added tokens are always recognised
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** Plain text: byte pieces joined and decoded as UTF-8 (invalid bytes become U+FFFD); special tokens as their text. */
    String decode(int[] ids);

    /** One token's text as far as it is valid UTF-8 on its own (for display). */
    String piece(int id);

    int vocabularySize();

    OptionalInt bos();

    OptionalInt eos();

    /** Tokens that end a generation (EOS, end-of-turn...). */
    Set<Integer> endOfGeneration();

    /** The id of a token given its exact text, if any. */
    OptionalInt tokenId(String piece);

    /** A decoder for streaming: feed ids one at a time, get back only complete UTF-8 text. */
    StreamingDecoder streamingDecoder();

    /** The raw bytes a token stands for (UTF-8 of its text for special tokens). */
    byte[] bytes(int id);
}
