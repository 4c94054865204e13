package org.moescope.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import org.moescope.model.ModelFile;
import org.moescope.runtime.TextModel;
import org.moescope.server.Limits;
import org.moescope.server.ModelEngine;
import org.moescope.server.ProfileDirectory;
import org.moescope.server.Server;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", description = {"Serve the model over HTTP: OpenAI-compatible routes (/v1/models, /v1/chat/completions,",
        "/v1/completions, streaming or not), /health, /metrics, and the web explorer at /.",
        "Per request, the body's \"moescope\": {\"profile\": {...} | \"name\", \"return_routing\": true} steers",
        "that request alone and returns each generated token's experts."})
final class ServeCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default ${DEFAULT-VALUE}: this machine only)") String host;

    @Option(names = "--port", defaultValue = "8080", description = "port (default ${DEFAULT-VALUE}; 0 picks a free one)") int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "require 'Authorization: Bearer KEY' on /v1 routes") String apiKey;

    @Option(names = "--parallel", defaultValue = "4", description = "requests generating at once (default ${DEFAULT-VALUE})") int parallel;

    @Option(names = "--queue", defaultValue = "64", description = "requests waiting beyond those; more get 429 (default ${DEFAULT-VALUE})") int queue;

    @Option(names = "--ctx", defaultValue = "0", description = "context length per request (default: the model's, at most 4096)") int context;

    @Option(names = "--max-tokens", defaultValue = "0", description = "the largest max_tokens accepted (default: the context)") int maxTokens;

    @Option(names = "--timeout", defaultValue = "300", description = "seconds a request may run before it is cut off (default ${DEFAULT-VALUE})") int timeout;

    @Option(names = "--profiles", paramLabel = "DIR", description = "folder of named profiles (NAME.json) and the steering vectors they use") Path profiles;

    @Option(names = "--traces", paramLabel = "traces.duckdb", description = "a trace store (from 'trace') for the explorer's expert view") Path traces;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)") Integer threads;

    @Override
    public Integer call() throws Exception {
        Threads.configure(threads);
        if (profiles != null && !Files.isDirectory(profiles)) throw new UserException("--profiles: " + profiles + " is not a folder");
        if (parallel < 1) throw new UserException("--parallel must be at least 1");
        Path path = model.resolve();
        ModelFile file = ModelFile.open(path);
        TextModel text = TextModel.open(file);
        int ctx = context > 0 ? context : Math.min(4096, Math.max(file.config().contextLength(), 1));
        Limits defaults = Limits.defaults(parallel, ctx);
        Limits limits = new Limits(defaults.maxBodyBytes(), ctx - 1, maxTokens > 0 ? maxTokens : ctx, parallel, queue, Duration.ofSeconds(timeout));
        String id = path.getFileName().toString().replaceFirst("\\.gguf$", "");
        ModelEngine engine = new ModelEngine(text, id, ctx, limits, profiles);
        Server server;
        try {
            server = new Server(engine, host, port, limits, apiKey, new ProfileDirectory(profiles), traces);
        } catch (java.io.IOException e) {
            throw new UserException(e.getMessage());
        }
        server.start();
        System.err.printf("moescope serve: %s on http://%s:%d/ (OpenAI API at /v1, %d parallel, context %d)%n", id, host, server.port(), parallel, ctx);
        if (!host.equals("127.0.0.1") && !host.equals("localhost") && apiKey == null) {
            System.err.println("warning: listening on " + host + " without --api-key: anyone who can reach it can use the model");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
