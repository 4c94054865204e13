package org.moescope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trace run killed with SIGKILL half-way leaves a DuckDB file that opens with every committed
 * sequence whole; a --resume run finishes the job, and the result equals an uninterrupted run row
 * for row.
 */
class TraceDurabilityTest {
    private static final int PROMPTS = 160;
    @TempDir Path dir;

    @Test
    void killedTraceKeepsCommittedSequencesAndResumes() throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        System.setProperty("moescope.home", root.toString());
        Path prompts = dir.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) lines.add("{\"prompt\": \"Question " + i + ": what is " + i + " + " + (2 * i) + "?\"}");
        Files.write(prompts, lines, StandardCharsets.UTF_8);
        Path killed = dir.resolve("killed.duckdb"), clean = dir.resolve("clean.duckdb");

        // a separate JVM, killed with SIGKILL once a third of the prompts are done
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dmoescope.home=" + root, "-cp", System.getProperty("java.class.path"), "org.moescope.cli.Main",
                "trace", "-f", prompts.toString(), "--generate", "4", "--db", killed.toString(), "-t", "1") // one thread here, all cores in the runs below: results do not depend on it
                .redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.contains("30%")) { /* wait for progress */ }
            assertThat(line).as("trace reported progress before it ended").isNotNull();
            p.destroyForcibly(); // SIGKILL: no shutdown hooks, no final commit
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(p.exitValue()).as("killed, not finished").isEqualTo(137);

        int stored;
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + killed); Statement s = c.createStatement()) {
            stored = single(s, "SELECT count(DISTINCT seq) FROM tokens");
            // progress said 30 %: every sequence before the one in flight (written behind the next one's computation) is there
            assertThat(stored).isBetween(PROMPTS * 3 / 10 - 1, PROMPTS - 1);
            // committed sequences are whole: contiguous, and routing for every token of every MoE layer
            assertThat(single(s, "SELECT max(seq) + 1 FROM tokens")).isEqualTo(stored);
            assertThat(single(s, "SELECT count(*) FROM (SELECT t.seq FROM tokens t LEFT JOIN routing r USING (run, seq, pos) "
                    + "GROUP BY t.seq, t.pos HAVING count(r.expert) = 0)")).as("tokens without routing").isZero();
            assertThat(single(s, "SELECT count(*) FROM (SELECT seq, pos, layer FROM routing GROUP BY ALL HAVING count(*) <> "
                    + "(SELECT max(rank) + 1 FROM routing))")).as("layers with a partial top-k").isZero();
        }

        assertThat(CliTest.run("trace", "-f", prompts.toString(), "--generate", "4", "--db", killed.toString(), "--resume").code()).isZero();
        assertThat(CliTest.run("trace", "-f", prompts.toString(), "--generate", "4", "--db", clean.toString()).code()).isZero();
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + dir.resolve("compare.duckdb")); Statement s = c.createStatement()) {
            s.execute("ATTACH '" + killed + "' AS k (READ_ONLY)");
            s.execute("ATTACH '" + clean + "' AS c (READ_ONLY)");
            assertThat(single(s, "SELECT count(DISTINCT run) FROM k.tokens")).as("the resumed run continues the killed one").isEqualTo(1);
            assertThat(single(s, "SELECT count(DISTINCT seq) FROM k.tokens")).isEqualTo(PROMPTS);
            for (String table : new String[] {"tokens", "routing"}) {
                String cols = table.equals("tokens") ? "seq, pos, token, piece, phase" : "seq, pos, layer, rank, expert, weight, logit";
                assertThat(single(s, "SELECT count(*) FROM k." + table)).isEqualTo(single(s, "SELECT count(*) FROM c." + table));
                assertThat(single(s, "SELECT count(*) FROM (SELECT " + cols + " FROM k." + table + " EXCEPT ALL SELECT " + cols + " FROM c." + table + ")"))
                        .as(table + " rows of the killed+resumed run missing from the clean run").isZero();
            }
        }
    }

    private static int single(Statement s, String sql) throws Exception {
        try (ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getInt(1);
        }
    }
}
