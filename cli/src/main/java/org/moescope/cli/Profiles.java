package org.moescope.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import org.moescope.model.ModelFile;
import org.moescope.model.hook.Hooks;
import org.moescope.probe.profile.CompositeHooks;
import org.moescope.probe.profile.Profile;
import org.moescope.probe.profile.ProfileException;
import org.moescope.probe.profile.ProfileHooks;

/** Loads --profile and combines it with the command's own capture hooks (interventions first). */
final class Profiles {
    private Profiles() {}

    static Profile load(Path file) {
        if (file == null) return Profile.empty();
        if (!Files.isRegularFile(file)) throw new UserException("--profile: " + file + ": no such file");
        try {
            return Profile.read(file);
        } catch (ProfileException e) {
            throw new UserException(file + ": " + e.getMessage());
        }
    }

    static Hooks hooks(Path file, ModelFile model, Hooks capture) {
        if (file == null) return capture == null ? Hooks.NONE : capture;
        return hooks(load(file), file, model, capture);
    }

    static Hooks hooks(Profile profile, Path file, ModelFile model, Hooks capture) {
        try {
            return CompositeHooks.of(profile.isEmpty() ? null : new ProfileHooks(profile, model.config()), capture);
        } catch (ProfileException e) {
            throw new UserException((file == null ? "profile" : file.toString()) + ": " + e.getMessage());
        }
    }
}
