package org.moescope.format;

import java.nio.file.Path;

/**
 * A model file is not what it claims to be. The message always names the file, and where known
 * the field and byte offset at fault, so that a user can find the problem with a hex dump.
 */
public final class FormatException extends RuntimeException {
    private final Path file;
    private final long offset;

    public FormatException(Path file, long offset, String message) {
        super(describe(file, offset, message));
        this.file = file;
        this.offset = offset;
    }

    public FormatException(Path file, String message) {
        this(file, -1, message);
    }

    public FormatException(Path file, String message, Throwable cause) {
        super(describe(file, -1, message), cause);
        this.file = file;
        this.offset = -1;
    }

    private static String describe(Path file, long offset, String message) {
        String where = file == null ? "" : file + ": ";
        return offset >= 0 ? where + message + " (at byte offset " + offset + ")" : where + message;
    }

    public Path file() { return file; }

    /** Byte offset of the fault, or -1 where the fault is not at one place. */
    public long offset() { return offset; }
}
