package org.moescope.cli;

import org.moescope.model.ModelFile;

/** A model's tokenizer and chat template, found beside its weights. */
final class TextModel {
    private TextModel() {}

    static TextModel open(ModelFile file) {
        throw new UserException("-p: text input needs the tokenizer, which is not wired in yet; use --ids");
    }

    int[] encodePrompt(String text) { throw new IllegalStateException(); }
}
