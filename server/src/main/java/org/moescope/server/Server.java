package org.moescope.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The HTTP server: OpenAI routes, health and metrics, the web explorer's assets. Each request runs
 * on a virtual thread; at most {@code parallel} generate at once, up to {@code queue} more wait,
 * the rest get 429 with Retry-After. Errors are OpenAI's error JSON, never a stack trace.
 */
public final class Server implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer http;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Engine engine;
    private final Limits limits;
    private final String apiKey;
    private final Semaphore slots;
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    final Metrics metrics = new Metrics();
    private final OpenAiRoutes openai;
    private final ExplorerRoutes explorer;

    public Server(Engine engine, String host, int port, Limits limits, String apiKey, ProfileDirectory profiles) throws IOException {
        this(engine, host, port, limits, apiKey, profiles, null);
    }

    /** @param traces a DuckDB trace store for the explorer's expert view, or null */
    public Server(Engine engine, String host, int port, Limits limits, String apiKey, ProfileDirectory profiles, java.nio.file.Path traces)
            throws IOException {
        this.explorer = new ExplorerRoutes(engine, profiles, traces);
        this.engine = engine;
        this.limits = limits;
        this.apiKey = apiKey == null || apiKey.isEmpty() ? null : apiKey;
        this.slots = new Semaphore(limits.parallel(), true);
        this.openai = new OpenAiRoutes(this, engine, limits, profiles);
        try {
            http = HttpServer.create(new InetSocketAddress(host, port), 128);
        } catch (java.net.BindException e) {
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage() + " (is another server running? use --port)", e);
        }
        http.setExecutor(executor);
        http.createContext("/", this::dispatch);
    }

    public void start() { http.start(); }

    public int port() { return http.getAddress().getPort(); }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
        explorer.close();
    }

    private void dispatch(HttpExchange exchange) throws IOException {
        long start = System.nanoTime();
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        try {
            metrics.requests.incrementAndGet();
            if (path.equals("/health") && method.equals("GET")) {
                sendJson(exchange, 200, JSON.createObjectNode().put("status", "ok").put("model", engine.modelId()));
            } else if (path.equals("/metrics") && method.equals("GET")) {
                send(exchange, 200, "text/plain; version=0.0.4", metrics.render(running.get(), waiting.get()) + engine.metrics());
            } else if (path.startsWith("/v1/")) {
                authorize(exchange);
                openai.handle(exchange, path, method);
            } else if (path.startsWith("/api/")) {
                authorize(exchange);
                explorer.handle(exchange, path, method);
            } else if (method.equals("GET")) {
                WebAssets.serve(exchange, path);
            } else {
                throw new ApiException(404, "invalid_request_error", null, "not_found", "no route " + method + " " + path);
            }
        } catch (ApiException e) {
            metrics.errors.incrementAndGet();
            sendError(exchange, e);
        } catch (IOException e) {
            metrics.errors.incrementAndGet(); // the client went away; nothing to answer
        } catch (RuntimeException e) {
            metrics.errors.incrementAndGet();
            System.err.println("moescope serve: internal error on " + method + " " + path + ": " + e);
            sendError(exchange, new ApiException(500, "server_error", null, null, "internal error: " + e.getClass().getSimpleName()));
        } finally {
            exchange.close(); // after the error answer: try-with-resources would close it before the catch blocks run
            metrics.latency.add((System.nanoTime() - start) / 1e9);
        }
    }

    private void authorize(HttpExchange exchange) {
        if (apiKey == null) return;
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.equals("Bearer " + apiKey)) {
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key", "missing or wrong API key (Authorization: Bearer ...)");
        }
    }

    /** Runs {@code work} in a generation slot: waits in the queue, or refuses with 429 when the queue is full. */
    <T> T inSlot(java.util.concurrent.Callable<T> work) throws Exception {
        if (waiting.incrementAndGet() > limits.queue() + limits.parallel()) {
            waiting.decrementAndGet();
            metrics.rejected.incrementAndGet();
            throw new ApiException(429, "rate_limit_error", null, "queue_full", "the server is busy: " + limits.parallel()
                    + " requests are generating and " + limits.queue() + " waiting; retry later");
        }
        try {
            if (!slots.tryAcquire(limits.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ApiException(429, "rate_limit_error", null, "queue_timeout", "waited too long for a free slot; retry later");
            }
        } finally {
            waiting.decrementAndGet();
        }
        running.incrementAndGet();
        try {
            return work.call();
        } finally {
            running.decrementAndGet();
            slots.release();
        }
    }

    /** Bodies over the limit but below this are read and dropped before the 413 goes out. */
    private static final long DRAIN_LIMIT = 64L << 20;

    static byte[] readBody(HttpExchange exchange, long max) throws IOException {
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long declared;
            try {
                declared = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                throw ApiException.invalid(null, "Content-Length is not a number");
            }
            if (declared > max) {
                // read a moderately large body before answering, so the client is not reset mid-send and sees the 413
                if (declared <= DRAIN_LIMIT) {
                    try (InputStream in = exchange.getRequestBody()) {
                        in.skipNBytes(declared);
                    } catch (java.io.EOFException e) {
                        // shorter than declared: answer anyway
                    }
                }
                throw new ApiException(413, "invalid_request_error", null, "body_too_large", "request body of " + declared + " bytes exceeds the limit of " + max);
            }
        }
        try (InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (body.length > max) throw new ApiException(413, "invalid_request_error", null, "body_too_large", "request body exceeds the limit of " + max + " bytes");
            return body;
        }
    }

    static void sendJson(HttpExchange exchange, int status, Object body) throws IOException {
        send(exchange, status, "application/json", JSON.writeValueAsString(body));
    }

    static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    static void sendError(HttpExchange exchange, ApiException e) {
        try {
            ObjectNode root = JSON.createObjectNode();
            ObjectNode error = root.putObject("error");
            error.put("message", e.getMessage());
            error.put("type", e.type());
            if (e.param() == null) error.putNull("param"); else error.put("param", e.param());
            if (e.code() == null) error.putNull("code"); else error.put("code", e.code());
            if (e.status() == 429) exchange.getResponseHeaders().set("Retry-After", "1");
            sendJson(exchange, e.status(), root);
        } catch (IOException | IllegalStateException ignored) {
            // headers already sent (a failing stream) or the client is gone: nothing more to say
        }
    }

    /** Counters for /metrics. */
    static final class Metrics {
        final AtomicLong requests = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong rejected = new AtomicLong();
        final AtomicLong promptTokens = new AtomicLong();
        final AtomicLong completionTokens = new AtomicLong();
        final AtomicLong generationNanos = new AtomicLong();
        final java.util.concurrent.atomic.DoubleAdder latency = new java.util.concurrent.atomic.DoubleAdder();

        String render(int running, int waiting) {
            double seconds = generationNanos.get() / 1e9;
            return "# HELP moescope_requests_total HTTP requests received.\n# TYPE moescope_requests_total counter\n"
                    + "moescope_requests_total " + requests.get() + "\n"
                    + "# HELP moescope_errors_total Requests answered with an error.\n# TYPE moescope_errors_total counter\n"
                    + "moescope_errors_total " + errors.get() + "\n"
                    + "# HELP moescope_rejected_total Requests refused because the queue was full.\n# TYPE moescope_rejected_total counter\n"
                    + "moescope_rejected_total " + rejected.get() + "\n"
                    + "# HELP moescope_prompt_tokens_total Prompt tokens processed.\n# TYPE moescope_prompt_tokens_total counter\n"
                    + "moescope_prompt_tokens_total " + promptTokens.get() + "\n"
                    + "# HELP moescope_completion_tokens_total Tokens generated.\n# TYPE moescope_completion_tokens_total counter\n"
                    + "moescope_completion_tokens_total " + completionTokens.get() + "\n"
                    + "# HELP moescope_tokens_per_second Generated tokens per second of generation time.\n# TYPE moescope_tokens_per_second gauge\n"
                    + "moescope_tokens_per_second " + (seconds > 0 ? completionTokens.get() / seconds : 0) + "\n"
                    + "# HELP moescope_requests_running Requests generating now.\n# TYPE moescope_requests_running gauge\n"
                    + "moescope_requests_running " + running + "\n"
                    + "# HELP moescope_queue_length Requests waiting for a slot.\n# TYPE moescope_queue_length gauge\n"
                    + "moescope_queue_length " + waiting + "\n"
                    + "# HELP moescope_request_seconds_sum Total request handling time.\n# TYPE moescope_request_seconds_sum counter\n"
                    + "moescope_request_seconds_sum " + latency.sum() + "\n";
        }
    }
}
