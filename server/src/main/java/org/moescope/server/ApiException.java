package org.moescope.server;

/**
 * A request that cannot be served, with the HTTP status and OpenAI's error fields
 * ({@code {"error": {"message", "type", "param", "code"}}}). Never carries a stack trace to the client.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: a field is missing, malformed or out of range; {@code param} names it. */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message);
    }

    public int status() { return status; }

    public String type() { return type; }

    public String param() { return param; }

    public String code() { return code; }
}
