package org.moescope.probe.profile;

/** A profile that is not valid JSON, not valid for its format, or not valid for the model; the message names the JSON path. */
public final class ProfileException extends RuntimeException {
    private final String path;

    public ProfileException(String path, String message) {
        super((path == null || path.isEmpty() ? "profile" : "profile: " + path) + ": " + message);
        this.path = path;
    }

    /** The JSON path at fault ({@code experts.disable[1].layers[0]}), or "" for the whole profile. */
    public String path() { return path; }
}
