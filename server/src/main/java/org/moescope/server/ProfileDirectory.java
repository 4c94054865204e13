package org.moescope.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Named profiles from the folder given with {@code --profiles}: {@code "profile": "fewer-refusals"}
 * reads {@code DIR/fewer-refusals.json}. Names are plain words, so no request can reach a file
 * outside the folder.
 */
public final class ProfileDirectory {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final Path folder;

    public ProfileDirectory(Path folder) { this.folder = folder == null ? null : folder.toAbsolutePath().normalize(); }

    public Path folder() { return folder; }

    /** The profile named {@code name} as JSON. */
    public JsonNode load(String name) {
        if (folder == null) throw ApiException.invalid("moescope.profile", "named profiles need the server started with --profiles DIR");
        if (!NAME.matcher(name).matches() || name.contains("..")) {
            throw ApiException.invalid("moescope.profile", "profile name '" + name + "' may hold only letters, digits, '.', '_' and '-'");
        }
        Path file = folder.resolve(name.endsWith(".json") ? name : name + ".json").normalize();
        if (!file.startsWith(folder) || !Files.isRegularFile(file)) {
            throw ApiException.invalid("moescope.profile", "no profile named '" + name + "'");
        }
        try {
            return Server.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw ApiException.invalid("moescope.profile", "profile '" + name + "' is not valid JSON");
        }
    }

    /** Relative vector paths in named profiles resolve against this folder. */
    public Path base() { return folder; }
}
