package org.moescope.runtime;

import java.nio.file.Path;

/** The micro-moe GGUF kept in the repository (models/), there on every clone: tests that need a real model and no ../shared. */
final class EmbeddedModel {
    private EmbeddedModel() {}

    /** Its path, from a module's directory (where Surefire runs the tests). */
    static Path path() {
        return Path.of("").toAbsolutePath().getParent().resolve("models/micro-moe-q8_0.gguf");
    }
}
