package org.moescope.text.tokenizer;

/**
 * A token matched in the text before pre-tokenization (HF added tokens, GGUF control and
 * user-defined tokens).
 *
 * @param control    only recognised when parsing special tokens is asked for (HF "special", GGUF CONTROL)
 * @param lstrip     absorbs the whitespace before it
 * @param rstrip     absorbs the whitespace after it
 * @param singleWord matches only as a whole word
 */
record SpecialToken(String content, int id, boolean control, boolean lstrip, boolean rstrip, boolean singleWord) {}
