package org.moescope.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import picocli.CommandLine.Option;

/** {@code -m MODEL}, defaulting to the embedded micro-moe so commands work on a fresh clone. */
final class ModelOption {
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "a .gguf file (or the first part of a split one) or a Hugging Face folder; default: the embedded micro-moe")
    Path model;

    Path resolve() {
        if (model != null) return model;
        return embedded();
    }

    static Path embedded() {
        String home = System.getProperty("moescope.home");
        Path root = home != null ? Path.of(home) : Path.of("");
        Path p = root.resolve("models/micro-moe-q8_0.gguf");
        if (!Files.exists(p)) throw new UserException("no model given (-m) and the embedded model " + p + " is missing");
        return p;
    }
}
