package org.moescope.server.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.moescope.server.ApiException;
import org.moescope.server.Limits;
import org.moescope.server.ProfileDirectory;
import org.moescope.server.RequestParser;

/**
 * The server's request parser under coverage-guided fuzzing: any body must become a request or a
 * 4xx ApiException naming the field, never another exception (which would be a 500).
 */
class RequestFuzzTest {
    private static final Path PROFILES = profiles();
    private static final RequestParser PARSER = new RequestParser(Limits.defaults(2, 2048), new ProfileDirectory(PROFILES));

    private static Path profiles() {
        try {
            Path dir = Files.createTempDirectory("fuzz-profiles");
            Files.writeString(dir.resolve("plain.json"), "{\"experts\": {\"disable\": [{\"layers\": [0], \"experts\": [1]}]}}");
            dir.toFile().deleteOnExit();
            dir.resolve("plain.json").toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10s")
    void requestBodiesFailOnlyWithClientErrors(byte[] input) {
        for (boolean chat : new boolean[] {true, false}) {
            try {
                PARSER.parse(input, chat);
            } catch (ApiException e) {
                if (e.status() < 400 || e.status() >= 500) throw new AssertionError("status " + e.status() + " for a bad body", e);
            }
        }
    }
}
