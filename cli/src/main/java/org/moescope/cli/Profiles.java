package org.moescope.cli;

import java.nio.file.Path;

import org.moescope.model.ModelFile;
import org.moescope.model.hook.Hooks;

/** Loads --profile and combines it with the command's own capture hooks. */
final class Profiles {
    private Profiles() {}

    static Hooks hooks(Path profile, ModelFile model, Hooks capture) {
        if (profile == null) return capture;
        throw new UserException("--profile: profiles are not wired into this command yet");
    }
}
