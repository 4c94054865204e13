package org.moescope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.moescope.format.safetensors.SafetensorsFile;
import org.moescope.testkit.SharedFiles;
import picocli.CommandLine;

/** The commands as users run them (in-process), on the embedded micro-moe and the shared fixtures. */
class CliTest {
    @TempDir Path dir;

    @BeforeAll
    static void home() {
        // the embedded model lives in <project>/models; tests run in <project>/cli
        System.setProperty("moescope.home", Path.of("").toAbsolutePath().getParent().toString());
    }

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void inspectJsonReportsMiniMoeParameterCounts() throws Exception {
        Path model = SharedFiles.require("models/mini-moe/mini-moe-q8_0.gguf");
        Run r = run("inspect", model.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertThat(root.get("architecture").asText()).isEqualTo("qwen3_moe");
        assertThat(root.get("parameters_total").asLong()).isEqualTo(31_641_600L);
        assertThat(root.get("hyperparameters").get("experts").asInt()).isEqualTo(32);
        assertThat(root.get("tensors").get(0).has("shape")).isTrue();
    }

    @Test
    void benchReportsEveryRepetitionAndTracesTheDecodedTokens() throws Exception {
        // embedded micro-moe: pp8 and tg4, 2 repetitions after 1 warm-up, routing of the decoded tokens to DuckDB
        Path db = dir.resolve("bench.duckdb");
        Run r = run("bench", "-p", "8", "-n", "4", "-r", "2", "-w", "1", "-t", "1", "--json", "--trace", db.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode results = new ObjectMapper().readTree(r.out());
        // with --trace, plain decoding passes alternate with the recorded ones: pp8, tg4 plain, tg4 (+ its cost)
        assertThat(results).hasSize(3);
        assertThat(results.get(0).get("test").asText()).isEqualTo("pp8");
        assertThat(results.get(1).get("test").asText()).isEqualTo("tg4 plain");
        assertThat(results.get(2).get("test").asText()).isEqualTo("tg4");
        assertThat(results.get(2).get("hooks").asText()).isEqualTo("trace");
        assertThat(results.get(2).has("cost_percent")).isTrue();
        for (JsonNode test : results) {
            // the suite's JVM keeps the checks that bin/moescope turns off: an out-of-bounds kernel fails here
            assertThat(test.get("vector_bounds_checks").asBoolean()).as("Vector API bounds checks in the test JVM").isTrue();
            assertThat(test.get("samples")).hasSize(2);
            for (JsonNode rate : test.get("samples")) assertThat(rate.asDouble()).isPositive();
        }
        try (var c = java.sql.DriverManager.getConnection("jdbc:duckdb:" + db.toAbsolutePath());
                var rs = c.createStatement().executeQuery("select count(distinct seq), count(distinct pos), max(pos) from routing")) {
            rs.next();
            assertThat(rs.getInt(1)).as("one sequence per repetition, none from the warm-up").isEqualTo(2);
            assertThat(rs.getInt(3)).as("the last decoded position").isEqualTo(4);
        }
    }

    @Test
    void benchJobsSaysWhereTheTimeGoes() throws Exception {
        // embedded micro-moe on two threads: decode's expert chunks and the output product are parallel jobs
        Run r = run("bench", "-p", "8", "-n", "4", "-r", "2", "-w", "1", "-t", "2", "--json", "--jobs");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode results = new ObjectMapper().readTree(r.out());
        for (JsonNode test : results) {
            JsonNode jobs = test.get("jobs");
            assertThat(jobs).as(test.get("test").asText()).isNotNull();
            double shares = 0;
            java.util.List<String> kinds = new java.util.ArrayList<>();
            for (JsonNode job : jobs) {
                kinds.add(job.get("kind").asText());
                shares += job.get("share").asDouble();
                assertThat(job.get("microseconds_per_token").asDouble()).isNotNegative();
                if (job.has("end_wait_share")) {
                    assertThat(job.get("end_wait_share").asDouble()).isBetween(0.0, 1.0);
                    assertThat(job.get("idle_share").asDouble()).isBetween(0.0, 1.0);
                    assertThat(job.get("jobs_per_token").asDouble()).isPositive();
                }
            }
            assertThat(kinds.getLast()).isEqualTo("outside jobs");
            assertThat(shares).as("the jobs and the time outside them make up the measured time").isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
            if (test.get("test").asText().startsWith("tg")) assertThat(kinds).contains("experts in chunks").anyMatch(k -> k.startsWith("product 4096×128"));
        }
        Run text = run("bench", "-p", "0", "-n", "4", "-r", "1", "-w", "1", "-t", "2", "--jobs");
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).contains("where tg4's time goes (2 threads").contains("| experts in chunks").contains("outside jobs (the calling thread alone)");
    }

    @Test
    void inspectOfABrokenFileIsOneClearLine() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        java.nio.file.Files.write(bad, new byte[] {'G', 'G', 'U', 'X', 3, 0, 0, 0});
        Run r = run("inspect", bad.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("bad.gguf").contains("magic").doesNotContain("Exception");
    }

    @Test
    void tokenizeJsonUsesTheEmbeddedModelByDefault() throws Exception {
        Run r = run("tokenize", "--chat", "-p", "What is 37 + 48?", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode ids = new ObjectMapper().readTree(r.out()).get("ids");
        assertThat(ids.toString()).isEqualTo("[1,326,203,464,309,1714,414,1282,35,2,203,1,327,203]");
    }

    @Test
    void logitsFileHasTheGoldenLayout() {
        Path model = SharedFiles.require("fixtures/arch/qwen3_moe/hf");
        Path out = dir.resolve("l.safetensors");
        Run r = run("logits", "-m", model.toString(), "--ids", "1,17,243,88", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertThat(f.requireTensor("logits").shape()).containsExactly(4, 512);
            assertThat(f.requireTensor("hidden.0").shape()).containsExactly(4, 64);
            assertThat(f.requireTensor("hidden.3").shape()).containsExactly(4, 64);
            assertThat(f.requireTensor("router_logits.2").shape()).containsExactly(4, 8);
        }
    }

    @Test
    void unknownFlagsAndMissingFilesFailWithUsage() {
        assertThat(run("generate", "--no-such-flag").code()).isNotZero();
        Run r = run("inspect", "/no/such/model.gguf");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("/no/such/model.gguf").contains("no such file");
    }

    @Test
    void everyCommandExplainsItselfWithHelp() {
        // picocli reports a description it cannot format (a lone % is a format specifier) on System.err, not the command's err
        PrintStream stderr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            for (String[] command : new String[][] {{"generate"}, {"chat"}, {"inspect"}, {"tokenize"}, {"trace"}, {"trace", "sql"}, {"trace", "export"},
                    {"vector", "make"}, {"study"}, {"eval"}, {"logits"}, {"bench"}, {"synth"}, {"serve"}}) {
                String[] args = Arrays.copyOf(command, command.length + 1);
                args[command.length] = "--help";
                Run r = run(args);
                assertThat(r.code()).as(String.join(" ", args)).isZero();
                assertThat(r.out()).as(String.join(" ", args)).contains("Usage: moescope " + String.join(" ", command)).contains("--help");
            }
        } finally {
            System.setErr(stderr);
        }
        assertThat(warnings.toString(StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
    }

    @Test
    void helpNamesTheEnvironmentVariables() {
        Run r = run("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Environment:").contains("MOESCOPE_PAGES=huge|advise|keep").contains("MOESCOPE_JAVA_OPTS");
    }
}
