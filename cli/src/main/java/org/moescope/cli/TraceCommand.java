package org.moescope.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import org.moescope.model.ModelFile;
import org.moescope.model.hook.HookPoint;
import org.moescope.probe.profile.Profile;
import org.moescope.probe.trace.TraceStore;
import org.moescope.probe.trace.Tracer;
import org.moescope.runtime.TextModel;
import org.moescope.study.Progress;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "trace", description = {"Run prompts (and optionally generate) and store every routing decision in a DuckDB file:",
        "runs(id, model, profile, created, note), tokens(run, seq, pos, token, piece, phase),",
        "routing(run, seq, pos, layer, rank, expert, weight, logit), captures(run, seq, pos, point, vals).",
        "Then ask questions in SQL, e.g. SELECT expert, count(*) FROM routing WHERE layer=3 GROUP BY 1."},
        subcommands = {TraceCommand.Export.class, TraceCommand.Sql.class})
final class TraceCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    static final class Input {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "one prompt") String text;

        @Option(names = {"-f", "--file"}, paramLabel = "prompts.jsonl", description = "JSON lines with a \"prompt\" field") Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1") Input input;

    @Option(names = "--db", paramLabel = "traces.duckdb", description = "the DuckDB file (created if absent); required") Path db;

    @Option(names = "--profile", paramLabel = "P.json", description = "apply a profile; it is recorded with the run") Path profile;

    @Option(names = "--generate", defaultValue = "0", paramLabel = "N", description = "also generate N tokens per prompt (greedy) and trace them") int generate;

    @Option(names = "--chat", description = "wrap each prompt as a user message with the chat template") boolean chat;

    @Option(names = "--capture", split = ",", paramLabel = "WHAT",
            description = "what to store: router (always), resid:L (blocks.L.resid_post), or hook names such as blocks.3.attn.out") List<String> capture = List.of();

    @Option(names = "--resume", description = "continue the last run of this model and profile, skipping sequences already stored") boolean resume;

    @Option(names = "--note", defaultValue = "", description = "free text stored with the run") String note;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)") Integer threads;

    @Override
    public Integer call() {
        Threads.configure(threads);
        if (input == null) throw new UserException("trace: give a prompt (-p TEXT) or a prompt file (-f prompts.jsonl)");
        if (db == null) throw new UserException("trace: --db FILE is required");
        List<String> prompts = input.text != null ? List.of(input.text) : Prompts.read(input.file);
        Set<HookPoint> dense = new LinkedHashSet<>();
        for (String c : capture) {
            if (c.equals("router")) continue;
            try {
                dense.add(c.startsWith("resid:") ? HookPoint.block(Integer.parseInt(c.substring(6)), HookPoint.Kind.RESID_POST) : HookPoint.parse(c));
            } catch (RuntimeException e) {
                throw new UserException("--capture: " + e.getMessage());
            }
        }
        Profile p = Profiles.load(profile);
        try (ModelFile file = ModelFile.open(model.resolve()); TraceStore store = TraceStore.open(db)) {
            for (HookPoint h : dense) {
                if (h.layer() >= file.config().layerCount()) throw new UserException("--capture: " + h + ": the model has " + file.config().layerCount() + " layers");
            }
            TextModel text = TextModel.open(file);
            Tracer tracer;
            try {
                tracer = new Tracer(text, p, dense, chat, generate);
            } catch (org.moescope.probe.profile.ProfileException e) {
                throw new UserException(profile + ": " + e.getMessage());
            }
            String modelName = file.path().toString();
            int run = resume ? store.lastRun(modelName, p.toJson()) : -1;
            if (run < 0) run = store.beginRun(modelName, p.toJson(), note);
            int skipped = 0;
            try (Progress progress = new Progress("tracing", prompts.size(), "prompts")) {
                for (int seq = 0; seq < prompts.size(); seq++) {
                    progress.update(seq);
                    if (resume && store.hasSequence(run, seq)) {
                        skipped++;
                        continue;
                    }
                    Tracer.Sequence t = tracer.trace(prompts.get(seq));
                    store.writeSequence(run, seq, t.tokens(), t.pieces(), t.promptLength(), t.routes(), t.captures());
                }
            }
            System.err.printf("run %d: %d prompts traced%s into %s%n", run, prompts.size() - skipped,
                    skipped > 0 ? " (" + skipped + " already there)" : "", db);
        }
        return 0;
    }

    @Command(name = "export", description = "Write every table of a trace store as Parquet files (DIR/runs.parquet, tokens, routing, captures).")
    static final class Export implements Callable<Integer> {
        @Option(names = "--db", required = true, paramLabel = "traces.duckdb") Path db;

        @Option(names = "--parquet", required = true, paramLabel = "DIR") Path directory;

        @Override
        public Integer call() {
            if (!java.nio.file.Files.isRegularFile(db)) throw new UserException(db + ": no such trace store");
            try (TraceStore store = TraceStore.open(db)) {
                store.exportParquet(directory);
            }
            System.err.println("exported " + db + " to " + directory);
            return 0;
        }
    }

    @Command(name = "sql", description = "Run a SQL query on a trace store and print the result as a table (or CSV with --csv).")
    static final class Sql implements Callable<Integer> {
        @Option(names = "--db", required = true, paramLabel = "traces.duckdb") Path db;

        @picocli.CommandLine.Parameters(paramLabel = "QUERY", description = "the SQL") String query;

        @Option(names = "--csv", description = "print CSV") boolean csv;

        @Override
        public Integer call() throws Exception {
            if (!java.nio.file.Files.isRegularFile(db)) throw new UserException(db + ": no such trace store");
            try (TraceStore store = TraceStore.open(db); var s = store.connection().createStatement(); var r = s.executeQuery(query)) {
                var meta = r.getMetaData();
                int n = meta.getColumnCount();
                List<String[]> rows = new ArrayList<>();
                String[] header = new String[n];
                for (int i = 0; i < n; i++) header[i] = meta.getColumnLabel(i + 1);
                rows.add(header);
                while (r.next()) {
                    String[] row = new String[n];
                    for (int i = 0; i < n; i++) row[i] = String.valueOf(r.getObject(i + 1));
                    rows.add(row);
                }
                var out = new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, java.nio.charset.StandardCharsets.UTF_8);
                if (csv) {
                    for (String[] row : rows) out.println(String.join(",", row));
                } else {
                    int[] width = new int[n];
                    for (String[] row : rows) for (int i = 0; i < n; i++) width[i] = Math.max(width[i], row[i].length());
                    for (int k = 0; k < rows.size(); k++) {
                        StringBuilder sb = new StringBuilder();
                        for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : " | ").append(String.format("%-" + width[i] + "s", rows.get(k)[i]));
                        out.println(sb);
                        if (k == 0) out.println("-".repeat(sb.length()));
                    }
                    out.println("(" + (rows.size() - 1) + " rows)");
                }
            } catch (java.sql.SQLException e) {
                throw new UserException("SQL: " + e.getMessage());
            }
            return 0;
        }
    }
}
