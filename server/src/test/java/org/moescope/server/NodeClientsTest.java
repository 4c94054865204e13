package org.moescope.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Node.js clients against a running server: the official {@code openai} package
 * (openai.test.mjs) and the web explorer in headless Chromium via playwright-core
 * (web.test.mjs, screenshots in server/target/screenshots). Their packages come from
 * {@code npm ci} in server/src/test/node, which .ci/run does.
 */
class NodeClientsTest {
    private static final Path DIR = Path.of("src/test/node");

    @Test
    void openaiPackage() throws Exception { run("openai.test.mjs"); }

    @Test
    void webExplorerInChromium() throws Exception { run("web.test.mjs"); }

    private static void run(String file) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(DIR.resolve("node_modules")),
                "server/src/test/node/node_modules is absent: run 'npm ci' there (.ci/run does) to test the Node clients");
        Server server = Fixture.start();
        try {
            Path shots = Path.of("target/screenshots").toAbsolutePath();
            ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=spec", file).directory(DIR.toFile()).redirectErrorStream(true);
            pb.environment().put("MOESCOPE_URL", "http://127.0.0.1:" + server.port());
            pb.environment().put("MOESCOPE_SCREENSHOTS", shots.toString());
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                Assumptions.abort("node is not installed: " + e.getMessage());
                return;
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            boolean finished = p.waitFor(5, TimeUnit.MINUTES);
            System.out.println(output);
            assertThat(finished).as("node finished").isTrue();
            assertThat(p.exitValue()).as(output).isZero();
            assertThat(output).contains("fail 0").doesNotContain("✖");
        } finally {
            server.close();
        }
    }
}
