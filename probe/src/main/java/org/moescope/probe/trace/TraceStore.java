package org.moescope.probe.trace;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;

/**
 * Routing traces in an embedded DuckDB file. Tables:
 * <pre>
 * runs     (id, model, profile, created, note)
 * tokens   (run, seq, pos, token, piece, phase)            phase: 'prompt' | 'generated'
 * routing  (run, seq, pos, layer, rank, expert, weight, logit)
 * captures (run, seq, pos, point, vals FLOAT[])
 * </pre>
 * Each sequence is written with DuckDB's appender and committed as one transaction, so a run
 * killed mid-way leaves every finished sequence intact, and {@link #hasSequence} lets a re-run
 * resume. {@link #writeSequence} hands the sequence to a writer thread and returns: its commit
 * (a file sync) overlaps the computation of the next sequence, one sequence at a time. Every other
 * method, and {@link #close}, first waits for that write and throws its failure; a killed process
 * loses at most the sequence in flight, which a resumed run computes again.
 */
public final class TraceStore implements AutoCloseable {
    private final Path path;
    private final DuckDBConnection connection;
    private static final String[] STAGED = {"tokens", "routing", "captures"};

    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("moescope-trace-writer").unstarted(r));
    private Future<?> inFlight;

    private TraceStore(Path path, DuckDBConnection connection) {
        this.path = path;
        this.connection = connection;
    }

    /** Waits until the sequence handed to {@link #writeSequence} is committed; throws its failure. */
    public void flush() {
        Future<?> f = inFlight;
        if (f == null) return;
        inFlight = null;
        try {
            f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TraceException t) throw t;
            throw new TraceException("cannot write to " + path + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TraceException("interrupted while writing to " + path, e);
        }
    }

    public static TraceStore open(Path path) {
        try {
            Class.forName("org.duckdb.DuckDBDriver");
            if (path.getParent() != null) Files.createDirectories(path.toAbsolutePath().getParent());
            DuckDBConnection c = (DuckDBConnection) DriverManager.getConnection("jdbc:duckdb:" + path.toAbsolutePath());
            try (Statement s = c.createStatement()) {
                s.execute("CREATE SEQUENCE IF NOT EXISTS run_ids START 1");
                s.execute("CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, model VARCHAR, profile VARCHAR, created TIMESTAMP, note VARCHAR)");
                s.execute("CREATE TABLE IF NOT EXISTS tokens (run INTEGER, seq INTEGER, pos INTEGER, token INTEGER, piece VARCHAR, phase VARCHAR)");
                s.execute("CREATE TABLE IF NOT EXISTS routing (run INTEGER, seq INTEGER, pos INTEGER, layer SMALLINT, rank SMALLINT, expert SMALLINT, "
                        + "weight FLOAT, logit FLOAT)");
                s.execute("CREATE TABLE IF NOT EXISTS captures (run INTEGER, seq INTEGER, pos INTEGER, point VARCHAR, vals FLOAT[])");
                // DuckDB's appender commits on its own: rows are appended to staging tables, then moved
                // into the real ones in one transaction, so a killed process never leaves half a sequence
                for (String t : STAGED) {
                    s.execute("CREATE TABLE IF NOT EXISTS stage_" + t + " AS SELECT * FROM " + t + " LIMIT 0");
                    s.execute("DELETE FROM stage_" + t); // left over from a process that died mid-write
                }
            }
            c.setAutoCommit(false);
            c.commit();
            return new TraceStore(path, c);
        } catch (Exception e) {
            throw new TraceException("cannot open trace store " + path + ": " + e.getMessage(), e);
        }
    }

    public Path path() { return path; }

    /** The DuckDB connection, for queries (after any sequence in flight is written). */
    public Connection connection() {
        flush();
        return connection;
    }

    /** A new run; returns its id. */
    public int beginRun(String model, String profileJson, String note) {
        flush();
        try (Statement s = connection.createStatement(); ResultSet r = s.executeQuery("SELECT nextval('run_ids')")) {
            r.next();
            int id = r.getInt(1);
            try (PreparedStatement p = connection.prepareStatement("INSERT INTO runs VALUES (?, ?, ?, now(), ?)")) {
                p.setInt(1, id);
                p.setString(2, model);
                p.setString(3, profileJson);
                p.setString(4, note);
                p.executeUpdate();
            }
            connection.commit();
            return id;
        } catch (SQLException e) {
            throw new TraceException("cannot start a run in " + path + ": " + e.getMessage(), e);
        }
    }

    /** Whether sequence {@code seq} of {@code run} was completely written (for resuming). */
    public boolean hasSequence(int run, int seq) {
        flush();
        try (PreparedStatement p = connection.prepareStatement("SELECT count(*) FROM tokens WHERE run = ? AND seq = ?")) {
            p.setInt(1, run);
            p.setInt(2, seq);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getLong(1) > 0;
            }
        } catch (SQLException e) {
            throw new TraceException(e.getMessage(), e);
        }
    }

    /** The id of the last run for this model and profile, to resume into, or -1. */
    public int lastRun(String model, String profileJson) {
        flush();
        try (PreparedStatement p = connection.prepareStatement("SELECT max(id) FROM runs WHERE model = ? AND profile = ?")) {
            p.setString(1, model);
            p.setString(2, profileJson);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                int id = r.getInt(1);
                return r.wasNull() ? -1 : id;
            }
        } catch (SQLException e) {
            throw new TraceException(e.getMessage(), e);
        }
    }

    /**
     * Writes one sequence in one transaction.
     *
     * @param tokens   the token ids, position i at index i
     * @param pieces   their text
     * @param prompt   how many of them are prompt tokens (the rest were generated)
     */
    public void writeSequence(int run, int seq, int[] tokens, String[] pieces, int prompt, List<TraceRecorder.Route> routes,
                              List<TraceRecorder.Capture> captures) {
        flush(); // one sequence in flight at most; the previous one's failure surfaces here
        int[] t = tokens.clone();
        String[] p = pieces.clone();
        List<TraceRecorder.Route> r = List.copyOf(routes);
        List<TraceRecorder.Capture> c = List.copyOf(captures);
        inFlight = writer.submit(() -> write(run, seq, t, p, prompt, r, c));
    }

    private void write(int run, int seq, int[] tokens, String[] pieces, int prompt, List<TraceRecorder.Route> routes,
                       List<TraceRecorder.Capture> captures) {
        try {
            try (DuckDBAppender a = connection.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "stage_tokens")) {
                for (int i = 0; i < tokens.length; i++) {
                    a.beginRow().append(run).append(seq).append(i).append(tokens[i]).append(pieces[i]).append(i < prompt ? "prompt" : "generated").endRow();
                }
            }
            try (DuckDBAppender a = connection.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "stage_routing")) {
                for (TraceRecorder.Route r : routes) {
                    a.beginRow().append(run).append(seq).append(r.position()).append((short) r.layer()).append((short) r.rank())
                            .append((short) r.expert()).append(r.weight()).append(r.logit()).endRow();
                }
            }
            if (!captures.isEmpty()) {
                try (DuckDBAppender a = connection.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "stage_captures")) {
                    for (TraceRecorder.Capture c : captures) {
                        a.beginRow().append(run).append(seq).append(c.position()).append(c.point()).append(c.values()).endRow();
                    }
                }
            }
            connection.commit();
            try (Statement s = connection.createStatement()) {
                for (String t : STAGED) {
                    s.execute("INSERT INTO " + t + " SELECT * FROM stage_" + t);
                    s.execute("DELETE FROM stage_" + t);
                }
            }
            connection.commit();
        } catch (SQLException e) {
            try {
                connection.rollback();
                try (Statement s = connection.createStatement()) {
                    for (String t : STAGED) s.execute("DELETE FROM stage_" + t);
                }
                connection.commit();
            } catch (SQLException ignored) {
                // the original failure is what matters
            }
            throw new TraceException("cannot write sequence " + seq + " to " + path + ": " + e.getMessage(), e);
        }
    }

    /** Every table as DIR/table.parquet. */
    public void exportParquet(Path directory) {
        flush();
        try {
            Files.createDirectories(directory);
            try (Statement s = connection.createStatement()) {
                for (String table : List.of("runs", "tokens", "routing", "captures")) {
                    String file = directory.resolve(table + ".parquet").toAbsolutePath().toString().replace("'", "''");
                    s.execute("COPY " + table + " TO '" + file + "' (FORMAT PARQUET)");
                }
            }
            connection.commit();
        } catch (Exception e) {
            throw new TraceException("cannot export " + path + " to " + directory + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            flush();
        } finally {
            writer.shutdown();
            try {
                connection.close();
            } catch (SQLException e) {
                throw new TraceException("cannot close " + path + ": " + e.getMessage(), e);
            }
        }
    }

    /** A failure of the trace store. */
    public static final class TraceException extends RuntimeException {
        public TraceException(String message, Throwable cause) { super(message, cause); }
    }
}
