package org.moescope.study;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.moescope.model.ModelFile;
import org.moescope.runtime.TextModel;
import org.moescope.testkit.SharedFiles;

/**
 * Every study end to end on mini-moe, on small slices of the dev data so that the suite stays
 * fast: each must write a summary.json whose figures are finite and a report.html with its plots.
 * The full-size figures are in the issues' closing notes and docs/STUDIES.md.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StudiesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;
    private ModelFile file;
    private TextModel model;
    private Path data;

    @BeforeAll
    void open() throws IOException {
        Path path = SharedFiles.require("models/mini-moe/mini-moe-q8_0.gguf");
        data = SharedFiles.require("data");
        file = ModelFile.open(path);
        model = TextModel.open(file);
    }

    @AfterAll
    void close() {
        if (file != null) file.close();
    }

    @Test
    void refusalExperts() throws IOException {
        Path slice = slice("refusal-dev.jsonl", 10, r -> r.get("harmful").asBoolean(), r -> !r.get("harmful").asBoolean());
        Path arith = slice("arith-dev.jsonl", 6, r -> true);
        JsonNode summary = run("refusal-experts", slice, Map.of("k", "2", "random_seeds", "1", "arith", arith.toString(), "arith_n", "6", "tokens", "8"));
        double base = summary.at("/figures/base.harmful_refusal/value").asDouble();
        assertThat(base).isBetween(0.0, 1.0);
        assertThat(summary.at("/figures/disable_top_2.harmful_refusal/value").isNumber()).isTrue();
        assertThat(summary.at("/controls").size()).as("the random control is reported").isPositive();
    }

    @Test
    void cognitiveExperts() throws IOException {
        JsonNode summary = run("cognitive-experts", slice("arith-dev.jsonl", 6, r -> true), Map.of("tokens", "24", "alpha", "2"));
        assertThat(summary.at("/figures/think_token_share").asDouble()).isBetween(0.0, 1.0);
        assertThat(summary.at("/figures/alpha_2.0.accuracy/value").asDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void vectorCreativity() throws IOException {
        JsonNode summary = run("vector-creativity", slice("creativity-dev.jsonl", 8, r -> true), Map.of("tokens", "8", "alpha", "0,2"));
        assertThat(summary.at("/figures/auroc.held_out_prompts/value").asDouble()).isBetween(0.0, 1.0);
        assertThat(summary.at("/figures/alpha_2.0.distinct_2/value").isNumber()).isTrue();
    }

    @Test
    void debias() throws IOException {
        Path slice = slice("bias-dev.jsonl", 2, r -> r.get("stereotype").asText().equals("female"), r -> r.get("stereotype").asText().equals("male"));
        JsonNode summary = run("debias", slice, Map.of("samples", "2", "tokens", "12"));
        assertThat(summary.at("/figures/female_jobs.female_share_before/value").asDouble()).isBetween(0.0, 1.0);
        assertThat(summary.at("/parameters/method").asText()).isEqualTo("unembedding");
        // the default ablation removes the readout directions: female and male pronouns get equal logits at every position
        // (up to the Q8_0 rounding of the activations before this GGUF's LM head, as llama.cpp computes it)
        JsonNode ablation = null;
        for (JsonNode p : summary.get("profiles")) if (p.get("role").asText().equals("ablation")) ablation = p.get("profile");
        assertThat(ablation).as("the ablation profile is recorded").isNotNull();
        var profile = org.moescope.probe.profile.Profile.of(ablation, dir.resolve("debias"));
        var transformer = model.transformer();
        var session = new org.moescope.runtime.Session(transformer, 64, 64);
        session.setHooks(new org.moescope.probe.profile.ProfileHooks(profile, file.config()));
        session.feed(model.encodeUserMessage(null, "Tell me about the nurse."), org.moescope.model.hook.Batch.Phase.PROMPT);
        float[] logits = session.logits();
        for (String[] pair : org.moescope.study.studies.Debias.PRONOUNS) {
            int[] f = model.tokenizer().encode(pair[0], false, false), m = model.tokenizer().encode(pair[1], false, false);
            if (f.length != 1 || m.length != 1) continue;
            assertThat(Math.abs(logits[f[0]] - logits[m[0]])).as("%s vs %s", pair[0], pair[1]).isLessThan(0.02f);
        }
        var plain = new org.moescope.runtime.Session(transformer, 64, 64);
        plain.feed(model.encodeUserMessage(null, "Tell me about the nurse."), org.moescope.model.hook.Batch.Phase.PROMPT);
        int she = model.tokenizer().encode("She", false, false)[0], he = model.tokenizer().encode("He", false, false)[0];
        assertThat(Math.abs(plain.logits()[she] - plain.logits()[he])).as("without the ablation the model prefers one").isGreaterThan(0.5f);
    }

    @Test
    void wordSense() throws IOException {
        JsonNode summary = run("wsd", slice("wsd-dev.jsonl", 60, r -> true), Map.of());
        assertThat(summary.at("/figures/layer_0.jaccard_same_minus_different/value").isNumber()).isTrue();
    }

    @Test
    void importance() throws IOException {
        JsonNode summary = run("importance", slice("wsd-dev.jsonl", 6, r -> true), Map.of("texts", "6"));
        assertThat(summary.at("/figures/spearman.frequency.layer_0/value").asDouble()).isBetween(-1.0, 1.0);
    }

    @Test
    void pruneWritesFilesWithFewerExperts() throws IOException {
        int experts = file.config().moe().experts();
        JsonNode summary = run("prune", slice("wsd-dev.jsonl", 6, r -> true), Map.of("texts", "6", "fractions", "0.25"));
        assertThat(summary.at("/figures/base_perplexity").asDouble()).isPositive();
        Path pruned = dir.resolve("prune").resolve("pruned-causal-250.gguf");
        try (ModelFile p = ModelFile.open(pruned)) {
            assertThat(p.config().moe().experts()).isEqualTo(experts - experts / 4);
            var g = new org.moescope.study.eval.Evaluator(TextModel.open(p)).generate(List.of("What is 2 + 2?"), null, 4, true, false, i -> {});
            assertThat(g.get(0).tokens()).isNotEmpty();
        }
    }

    @Test
    void consistency() throws IOException {
        JsonNode summary = run("consistency", slice("wsd-dev.jsonl", 6, r -> true), Map.of("texts", "6"));
        assertThat(summary.at("/figures/layer_0.srp_16").asDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void superExperts() throws IOException {
        JsonNode summary = run("super-experts", slice("wsd-dev.jsonl", 6, r -> true), Map.of("texts", "6"));
        assertThat(summary.at("/figures/median_peak_activation").asDouble()).isPositive();
    }

    @Test
    void dynamicRouting() throws IOException {
        JsonNode summary = run("dynamic-routing", slice("wsd-dev.jsonl", 6, r -> true), Map.of("texts", "6"));
        assertThat(summary.at("/figures/top_p=0.3.experts_per_token").asDouble()).isPositive();
    }

    private JsonNode run(String name, Path slice, Map<String, String> options) throws IOException {
        Study study = Studies.byName(name).orElseThrow();
        Path out = dir.resolve(name);
        study.run(new StudyContext(model, slice, out, null, 1, new LinkedHashMap<>(options)));
        JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
        assertThat(summary.get("study").asText()).isEqualTo(name);
        assertThat(summary.at("/model/sha256").asText()).hasSize(64);
        summary.get("figures").forEach(f -> {
            double v = f.isObject() ? f.path("value").asDouble() : f.asDouble();
            if (f.isNumber() || f.path("value").isNumber()) assertThat(Double.isFinite(v) || Double.isNaN(v)).isTrue();
        });
        String html = Files.readString(out.resolve("report.html"));
        assertThat(html).startsWith("<!DOCTYPE html>").contains("<svg").doesNotContain("src=\"http", "href=\"http", "<script src");
        return summary;
    }

    /** The first {@code perGroup} rows matching each predicate, in file order, as a new JSONL file. */
    @SafeVarargs
    private Path slice(String name, int perGroup, Predicate<JsonNode>... groups) throws IOException {
        List<String> lines = Files.readAllLines(data.resolve(name), StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        int[] taken = new int[groups.length];
        for (String line : lines) {
            if (line.isBlank()) continue;
            JsonNode row = JSON.readTree(line);
            for (int g = 0; g < groups.length; g++) {
                if (taken[g] < perGroup && groups[g].test(row)) {
                    taken[g]++;
                    out.add(line);
                    break;
                }
            }
        }
        Path target = dir.resolve("slice-" + out.size() + "-" + name);
        Files.write(target, out, StandardCharsets.UTF_8);
        return target;
    }
}
