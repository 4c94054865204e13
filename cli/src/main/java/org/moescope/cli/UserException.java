package org.moescope.cli;

/** A problem with what the user asked for, reported as one line. */
final class UserException extends RuntimeException {
    UserException(String message) { super(message); }
}
