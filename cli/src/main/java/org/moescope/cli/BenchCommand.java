package org.moescope.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.moescope.model.ModelFile;
import org.moescope.model.forward.Transformer;
import org.moescope.model.hook.Batch;
import org.moescope.model.hook.Hooks;
import org.moescope.probe.profile.CompositeHooks;
import org.moescope.probe.trace.TraceRecorder;
import org.moescope.probe.trace.TraceStore;
import org.moescope.runtime.Session;
import org.moescope.tensor.Workers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", description = {"Measure prompt processing (pp) and generation (tg) speed, like llama-bench.",
        "pp: one prompt of -p random tokens in batches; tg: -n tokens decoded one at a time. Mean ± sd over -r repetitions."})
final class BenchCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", description = "prompt tokens (0: skip pp; default ${DEFAULT-VALUE})") int prompt;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", description = "generated tokens (0: skip tg; default ${DEFAULT-VALUE})") int generate;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)") Integer threads;

    @Option(names = {"-b", "--batch"}, defaultValue = "512", description = "prefill batch size (default ${DEFAULT-VALUE})") int batch;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", description = "repetitions (default ${DEFAULT-VALUE})") int repetitions;

    @Option(names = {"-w", "--warmup"}, defaultValue = "3",
            description = "unmeasured passes before each test (default ${DEFAULT-VALUE}, and more until 2 s have passed, the JIT has "
                    + "compiled nothing for 1 s and the last three agree within 10 %%, at most 20 s; 0: none): the JIT compiles the kernels during the first ones, so fewer "
                    + "understate the steady speed") int warmup;

    @Option(names = "--json", description = "print JSON") boolean json;

    @Option(names = "--memory", description = "also measure streaming-read memory bandwidth (GB/s), the bound on decode speed") boolean memory;

    @Option(names = "--profile", paramLabel = "P.json",
            description = "run with a profile's hooks (interventions, steering); tg then alternates plain and hooked passes and reports their cost") java.nio.file.Path profile;

    @Option(names = "--trace", paramLabel = "DB",
            description = "during tg, record every token's routing and write it to this DuckDB file (as `trace` does), timed with the decoding; "
                    + "plain passes alternate with the recorded ones and the cost is reported") java.nio.file.Path trace;

    @Option(names = "--jobs",
            description = "also show where the measured time goes: for each kind of parallel job (products by shape and type, experts, attention, ...) "
                    + "its jobs and microseconds per token, its share of the time, the calling thread's wait for the other threads at the jobs' ends, "
                    + "and the threads' idle share inside them; the rest of the time ran on the calling thread alone (recording reads the clock twice "
                    + "a chunk: compare jobs of a few microseconds within one run)") boolean jobs;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (repetitions < 1) throw new UserException("-r must be at least 1");
        if (warmup < 0) throw new UserException("-w must be at least 0");
        Threads.configure(threads);
        try (ModelFile file = ModelFile.open(model.resolve()); TraceStore store = trace == null ? null : TraceStore.open(trace)) {
            Transformer transformer = Transformer.of(file);
            if (!file.prefetch()) { // the whole file in memory before any pass, as llama-bench loads it
                System.err.println("moescope: the model is larger than the memory available; its weights are read from disk as the passes need them");
            }
            org.moescope.probe.profile.Profile loaded = profile == null ? null : Profiles.load(profile);
            Hooks interventions = loaded == null ? null : Profiles.hooks(loaded, profile, file, null);
            TraceRecorder recorder = trace == null ? null : new TraceRecorder(true, java.util.Set.of(), file.config().layerCount());
            Hooks hooks = interventions == null && recorder == null
                    ? Hooks.NONE : CompositeHooks.of(interventions, recorder);
            int run = store == null ? -1 : store.beginRun(file.path().getFileName().toString(), loaded == null ? "{}" : loaded.toJson(), "bench");
            int vocabulary = file.config().vocabularySize();
            SplittableRandom random = new SplittableRandom(1234);
            List<Map<String, Object>> results = new ArrayList<>();
            if (prompt > 0) {
                double[] rates = new double[repetitions];
                int[] ids = random.ints(prompt, 0, vocabulary).toArray();
                // one session for every pass (rewound, as llama-bench reuses its context): no per-pass allocation to collect
                Session s = new Session(transformer, prompt + 1, batch);
                if (interventions != null) s.setHooks(interventions);
                Warmup warm = new Warmup();
                while (warm.due()) { // warm-up as measured (batched prefill): JIT and page-in
                    s.rewind(0);
                    long start = System.nanoTime();
                    s.feed(ids, Batch.Phase.PROMPT);
                    warm.passed(System.nanoTime() - start);
                }
                Workers.JobTimes times = jobs ? Workers.shared().newJobTimes() : null; // the measured passes only
                long measured = 0;
                for (int r = 0; r < repetitions; r++) {
                    s.rewind(0);
                    if (times != null) Workers.shared().startRecording(times);
                    long start = System.nanoTime();
                    s.feed(ids, Batch.Phase.PROMPT);
                    long took = System.nanoTime() - start;
                    Workers.shared().stopRecording();
                    measured += took;
                    rates[r] = prompt / (took / 1e9);
                }
                Map<String, Object> ppResult = result(file, "pp" + prompt, rates);
                if (times != null) ppResult.put("jobs", jobRows(times, measured, (long) prompt * repetitions));
                results.add(ppResult);
            }
            if (generate > 0) {
                // with hooks (--profile, --trace), plain passes alternate with the hooked ones (ABBA), so that
                // their cost is read from neighbouring passes, not from two runs minutes apart on a drifting machine
                boolean paired = hooks != Hooks.NONE;
                double[] rates = new double[repetitions], plainRates = new double[repetitions];
                int[] ids = random.ints(generate + 1, 0, vocabulary).toArray();
                Session s = new Session(transformer, Math.max(generate + 2, 17), 1);
                Warmup warm = new Warmup();
                while (warm.due()) { // token by token to the measured length: longer contexts take other paths
                    long start = System.nanoTime();
                    for (boolean hooked : paired ? new boolean[] {false, true} : new boolean[] {false}) {
                        s.setHooks(hooked || !paired ? hooks : Hooks.NONE);
                        s.rewind(0);
                        for (int i = 0; i <= generate; i++) s.feed(ids, i, 1, Batch.Phase.GENERATED);
                    }
                    warm.passed(System.nanoTime() - start);
                }
                if (recorder != null) recorder.reset();
                Workers.JobTimes times = jobs ? Workers.shared().newJobTimes() : null; // the measured passes only
                long measured = 0;
                for (int r = 0; r < repetitions; r++) {
                    boolean[] order = !paired ? new boolean[] {true} : r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false};
                    for (boolean hooked : order) {
                        s.setHooks(hooked ? hooks : Hooks.NONE);
                        s.rewind(0);
                        s.feed(ids, 0, 1, Batch.Phase.PROMPT);
                        if (times != null) Workers.shared().startRecording(times);
                        long start = System.nanoTime();
                        for (int i = 1; i <= generate; i++) s.feed(ids, i, 1, Batch.Phase.GENERATED);
                        long took = System.nanoTime() - start;
                        Workers.shared().stopRecording();
                        measured += took;
                        if (hooked && store != null) {
                            int[] tokens = java.util.Arrays.copyOf(ids, generate + 1);
                            String[] pieces = new String[tokens.length];
                            java.util.Arrays.fill(pieces, "");
                            store.writeSequence(run, r, tokens, pieces, 1, recorder.routes(), recorder.captures());
                        }
                        if (recorder != null) recorder.reset();
                        double rate = generate / (took / 1e9);
                        if (hooked) rates[r] = rate;
                        else plainRates[r] = rate;
                    }
                }
                Map<String, Object> hookedResult = result(file, "tg" + generate, rates);
                if (paired) {
                    double[] cost = new double[repetitions];
                    for (int r = 0; r < repetitions; r++) cost[r] = 100 * (1 - rates[r] / plainRates[r]);
                    double[] costStats = meanSd(cost);
                    hookedResult.put("hooks", profile != null && trace != null ? "profile+trace" : profile != null ? "profile" : "trace");
                    hookedResult.put("cost_percent", costStats[0]);
                    hookedResult.put("cost_stddev", costStats[1]);
                    results.add(result(file, "tg" + generate + " plain", plainRates));
                }
                if (times != null) hookedResult.put("jobs", jobRows(times, measured, (long) generate * repetitions * (paired ? 2 : 1)));
                results.add(hookedResult);
            }
            if (memory) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("test", "memory-read");
                m.put("threads", Threads.count());
                m.put("gigabytes_per_second", MemoryBandwidth.measure(1L << 30, 5));
                results.add(m);
            }
            print(results);
        }
        return 0;
    }

    /**
     * Warm-up passes until the speed has settled: at least -w passes and 2 s, then until the JIT
     * has compiled nothing for a second and the last three passes lie within 10 % of each other
     * (at most 20 s); none with -w 0. Passes that reach a longer context than the warm-up did, or
     * code C2 has not compiled yet, run several times slower: measured, they understated the steady
     * speed (on mini-moe, prompt passes still sped up by a quarter over the two seconds after a
     * fixed 2 s warm-up).
     */
    private final class Warmup {
        private final long start = System.nanoTime();
        private final long[] last = new long[3];
        private final java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        private long compiled = -1, quietSince = System.nanoTime();
        private int passes;

        boolean due() {
            if (warmup == 0) return false;
            long now = System.nanoTime(), elapsed = now - start;
            if (jit != null && jit.isCompilationTimeMonitoringSupported()) {
                long total = jit.getTotalCompilationTime();
                if (total != compiled) {
                    compiled = total;
                    quietSince = now;
                }
            }
            if (passes < warmup || elapsed < 2_000_000_000L) return true;
            if (elapsed >= 20_000_000_000L) return false;
            if (passes < last.length || now - quietSince < 1_000_000_000L) return true;
            long min = Long.MAX_VALUE, max = 0;
            for (long t : last) {
                min = Math.min(min, t);
                max = Math.max(max, t);
            }
            return max > 1.1 * min;
        }

        void passed(long nanos) { last[passes++ % last.length] = nanos; }
    }

    /**
     * The recorded jobs by kind, largest share first, then the time outside any job (the calling
     * thread alone: norms, routing, small products, sampling) as kind "outside jobs".
     */
    private static List<Map<String, Object>> jobRows(Workers.JobTimes times, long measuredNanos, long tokens) {
        List<Map<String, Object>> rows = new ArrayList<>();
        long inJobs = 0;
        for (var e : times.kinds().entrySet()) {
            long[] k = e.getValue();
            inJobs += k[1];
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("kind", e.getKey());
            row.put("jobs_per_token", (double) k[0] / tokens);
            row.put("microseconds_per_token", k[1] / 1e3 / tokens);
            row.put("share", (double) k[1] / measuredNanos);
            row.put("end_wait_share", k[1] == 0 ? 0.0 : (double) k[2] / k[1]);
            row.put("idle_share", k[1] == 0 ? 0.0 : (double) k[3] / ((double) times.threads() * k[1]));
            rows.add(row);
        }
        rows.sort((a, b) -> Double.compare((double) b.get("share"), (double) a.get("share")));
        Map<String, Object> outside = new LinkedHashMap<>();
        outside.put("kind", "outside jobs");
        outside.put("microseconds_per_token", Math.max(0, measuredNanos - inJobs) / 1e3 / tokens);
        outside.put("share", Math.max(0, measuredNanos - inJobs) / (double) measuredNanos);
        rows.add(outside);
        return rows;
    }

    /** Mean and sample standard deviation of the values. */
    private static double[] meanSd(double[] values) {
        double mean = 0;
        for (double v : values) mean += v;
        mean /= values.length;
        double variance = 0;
        for (double v : values) variance += (v - mean) * (v - mean);
        return new double[] {mean, values.length > 1 ? Math.sqrt(variance / (values.length - 1)) : 0};
    }

    private Map<String, Object> result(ModelFile file, String test, double[] rates) {
        double[] stats = meanSd(rates);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", file.path().getFileName().toString());
        m.put("architecture", file.config().architecture());
        m.put("size_bytes", file.storedTensors().stream().mapToLong(t -> t.byteSize()).sum());
        m.put("parameters", file.parameterCount());
        m.put("threads", Threads.count());
        // whether the Vector API checked every load (bin/moescope turns the checks off; see docs/PERFORMANCE.md)
        m.put("vector_bounds_checks", !"0".equals(System.getProperty("jdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK")));
        m.put("test", test);
        m.put("tokens_per_second", stats[0]);
        m.put("stddev", stats[1]);
        m.put("samples", rates);
        return m;
    }

    private void print(List<Map<String, Object>> results) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(results));
            return;
        }
        out.printf("| %-28s | %12s | %9s | %7s | %10s | %18s |%n", "model", "size", "params", "threads", "test", "t/s");
        out.printf("| %-28s | %12s | %9s | %7s | %10s | %18s |%n", "-".repeat(28), "-".repeat(12), "-".repeat(9), "-".repeat(7), "-".repeat(10), "-".repeat(18));
        for (var r : results) {
            if (r.containsKey("gigabytes_per_second")) {
                out.printf("%nmemory bandwidth (streaming read, %d threads): %.2f GB/s%n", r.get("threads"), r.get("gigabytes_per_second"));
                continue;
            }
            out.printf("| %-28s | %8.2f MiB | %7.2f M | %7d | %10s | %8.2f ± %7.2f |%n", r.get("model"),
                    ((Long) r.get("size_bytes")) / 1048576.0, ((Long) r.get("parameters")) / 1e6, r.get("threads"), r.get("test"),
                    r.get("tokens_per_second"), r.get("stddev"));
        }
        for (var r : results) {
            if (!r.containsKey("jobs")) continue;
            out.printf("%nwhere %s's time goes (%d threads; per token, over the measured passes):%n", r.get("test"), r.get("threads"));
            out.printf("| %-44s | %10s | %10s | %7s | %8s | %6s |%n", "job", "jobs/token", "µs/token", "share", "end wait", "idle");
            out.printf("| %-44s | %10s | %10s | %7s | %8s | %6s |%n", "-".repeat(44), "-".repeat(10), "-".repeat(10), "-".repeat(7), "-".repeat(8), "-".repeat(6));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> rows = (List<Map<String, Object>>) r.get("jobs");
            for (var row : rows) {
                boolean job = row.containsKey("jobs_per_token");
                out.printf("| %-44s | %10s | %10.1f | %6.1f%% | %8s | %6s |%n", job ? row.get("kind") : "outside jobs (the calling thread alone)",
                        job ? String.format("%.2f", row.get("jobs_per_token")) : "", row.get("microseconds_per_token"), 100 * (double) row.get("share"),
                        job ? String.format("%.1f%%", 100 * (double) row.get("end_wait_share")) : "",
                        job ? String.format("%.1f%%", 100 * (double) row.get("idle_share")) : "");
            }
            out.println("end wait: the calling thread's wait for the others' last chunks, of the jobs' time; idle: thread time inside the jobs not spent working");
        }
        for (var r : results) {
            if (r.containsKey("cost_percent")) {
                out.printf("%ncost of the %s: %.1f %% ± %.1f of decoding speed (each pass paired with a plain one next to it)%n",
                        r.get("hooks"), r.get("cost_percent"), r.get("cost_stddev"));
            }
        }
    }
}
