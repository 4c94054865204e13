package org.moescope.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Assumptions;

/**
 * Finds the shared fixture folder ({@code ../shared} beside the project root, or the system
 * property {@code moescope.shared}). A test that needs a fixture calls {@link #require}, which
 * skips the test with a message when the fixture is absent, as on a user's fresh clone.
 */
public final class SharedFiles {
    private SharedFiles() {}

    public static Optional<Path> root() {
        String property = System.getProperty("moescope.shared");
        if (property != null && Files.isDirectory(Path.of(property))) return Optional.of(Path.of(property).normalize());
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("fixtures"))) return Optional.of(candidate.normalize());
        }
        return Optional.empty();
    }

    /** The fixture at {@code relative} under ../shared; skips the calling test if it is absent. */
    public static Path require(String relative) {
        Optional<Path> root = root();
        Assumptions.assumeTrue(root.isPresent(), "../shared is absent: skipping a test that needs " + relative);
        Path p = root.get().resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "../shared/" + relative + " is absent: skipping");
        return p;
    }
}
