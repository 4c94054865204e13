package org.moescope.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.moescope.model.ModelFile;
import org.moescope.probe.profile.Profile;
import org.moescope.runtime.TextModel;
import org.moescope.study.Data;
import org.moescope.study.Progress;
import org.moescope.study.eval.Evaluator;
import org.moescope.study.stats.Figure;
import org.moescope.study.stats.Stats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", description = {"Evaluate a model (optionally under a profile) on one task, with a 95%% bootstrap interval:",
        "  refusal   share of prompts refused ({prompt, harmful} lines; reported for harmful and harmless separately)",
        "  arith     exact-answer accuracy ({prompt, answer} lines)",
        "  ppl       perplexity of a text file (plain text, or JSON lines with a \"text\" field)",
        "  pronoun   share of answers whose first pronoun is female ({prompt, ...} lines)",
        "  distinct  distinct-1/2 of the answers ({prompt} lines)"})
final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    @Option(names = "--task", required = true, description = "refusal, arith, ppl, pronoun or distinct") String task;

    @Option(names = "--data", required = true, paramLabel = "FILE") Path data;

    @Option(names = "--profile", paramLabel = "P.json", description = "apply a profile") Path profile;

    @Option(names = {"-n", "--tokens"}, defaultValue = "48", description = "tokens to generate per prompt (default ${DEFAULT-VALUE})") int tokens;

    @Option(names = "--limit", defaultValue = "0", description = "use only the first N records (0: all)") int limit;

    @Option(names = "--no-chat", description = "send prompts as plain text, not through the chat template") boolean noChat;

    @Option(names = "--refusal-markers", split = ",", description = "response openings that count as refusals (default: sorry, I can't, ...)") List<String> markers;

    @Option(names = "--seed", defaultValue = "1") long seed;

    @Option(names = {"-t", "--threads"}, description = "worker threads (default: all cores)") Integer threads;

    @Override
    public Integer call() throws Exception {
        Threads.configure(threads);
        Profile p = Profiles.load(profile);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("task", task);
        result.put("data", data.toString());
        result.put("profile", p.json());
        try (ModelFile file = ModelFile.open(model.resolve())) {
            TextModel text = TextModel.open(file);
            Evaluator ev = new Evaluator(text);
            if (!p.isEmpty()) new org.moescope.probe.profile.ProfileHooks(p, file.config()); // validate against the model before any work
            switch (task) {
                case "refusal" -> {
                    List<JsonNode> rows = rows("prompt", "harmful");
                    List<String> prompts = rows.stream().map(r -> r.get("prompt").asText()).toList();
                    var gens = generate(ev, prompts, p);
                    List<Boolean> harmful = new ArrayList<>(), harmless = new ArrayList<>();
                    for (int i = 0; i < gens.size(); i++) {
                        boolean refused = markers == null ? Evaluator.refused(gens.get(i).text()) : Evaluator.refused(gens.get(i).text(), markers);
                        (rows.get(i).get("harmful").asBoolean() ? harmful : harmless).add(refused);
                    }
                    result.put("harmful_refusal_rate", figure(Stats.proportion(array(harmful), seed)));
                    result.put("harmless_refusal_rate", figure(Stats.proportion(array(harmless), seed)));
                }
                case "arith" -> {
                    List<JsonNode> rows = rows("prompt", "answer");
                    var gens = generate(ev, rows.stream().map(r -> r.get("prompt").asText()).toList(), p);
                    boolean[] correct = new boolean[gens.size()];
                    for (int i = 0; i < correct.length; i++) {
                        Long a = Evaluator.answer(gens.get(i).text());
                        correct[i] = a != null && a == rows.get(i).get("answer").asLong();
                    }
                    result.put("accuracy", figure(Stats.proportion(correct, seed)));
                }
                case "pronoun" -> {
                    List<JsonNode> rows = rows("prompt");
                    var gens = generate(ev, rows.stream().map(r -> r.get("prompt").asText()).toList(), p);
                    List<Boolean> female = new ArrayList<>();
                    for (var g : gens) {
                        String pr = Evaluator.firstPronoun(g.text());
                        if (pr != null) female.add(pr.equals("female"));
                    }
                    result.put("female_share", figure(Stats.proportion(array(female), seed)));
                    result.put("answers_with_a_pronoun", female.size());
                }
                case "distinct" -> {
                    List<JsonNode> rows = rows("prompt");
                    var gens = generate(ev, rows.stream().map(r -> r.get("prompt").asText()).toList(), p);
                    List<List<String>> words = gens.stream().map(g -> Evaluator.words(g.text())).toList();
                    for (int n = 1; n <= 2; n++) {
                        int order = n;
                        double[] ci = Stats.bootstrap(words.size(), idx -> {
                            List<List<String>> s = new ArrayList<>();
                            for (int i : idx) s.add(words.get(i));
                            return Stats.distinctN(s, order);
                        }, seed);
                        result.put("distinct_" + n, figure(Figure.of(Stats.distinctN(words, n), ci, words.size(), "distinct-" + n + ", 95% percentile bootstrap")));
                    }
                }
                case "ppl" -> {
                    List<String> texts = texts();
                    double[] nll = new double[texts.size()];
                    try (Progress progress = new Progress("ppl", texts.size(), "texts")) {
                        for (int i = 0; i < nll.length; i++) {
                            nll[i] = ev.meanNll(texts.get(i), p);
                            progress.update(i + 1);
                        }
                    }
                    double[] finite = java.util.Arrays.stream(nll).filter(Double::isFinite).toArray();
                    Figure m = Stats.meanWithInterval(finite, seed);
                    result.put("perplexity", figure(new Figure(Math.exp(m.value()), Math.exp(m.low()), Math.exp(m.high()), m.n(),
                            "exp(mean token NLL per text), 95% percentile bootstrap over texts")));
                }
                default -> throw new UserException("--task must be refusal, arith, ppl, pronoun or distinct, not '" + task + "'");
            }
        }
        System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result));
        return 0;
    }

    private List<JsonNode> rows(String... fields) {
        try {
            List<JsonNode> rows = Data.read(data, fields);
            return limit > 0 ? rows.subList(0, Math.min(limit, rows.size())) : rows;
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage());
        }
    }

    private List<String> texts() throws java.io.IOException {
        if (!Files.isRegularFile(data)) throw new UserException(data + ": no such file");
        String all = Files.readString(data, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        if (data.toString().endsWith(".jsonl")) {
            for (JsonNode r : rows("text")) out.add(r.get("text").asText());
        } else {
            for (String paragraph : all.split("\\n\\s*\\n")) if (!paragraph.isBlank()) out.add(paragraph.strip());
        }
        return limit > 0 ? out.subList(0, Math.min(limit, out.size())) : out;
    }

    private List<Evaluator.Generation> generate(Evaluator ev, List<String> prompts, Profile p) {
        try (Progress progress = new Progress("eval " + task, prompts.size(), "prompts")) {
            return ev.generate(prompts, p, tokens, !noChat, false, progress::update);
        }
    }

    private static boolean[] array(List<Boolean> values) {
        boolean[] b = new boolean[values.size()];
        for (int i = 0; i < b.length; i++) b[i] = values.get(i);
        return b;
    }

    private static Map<String, Object> figure(Figure f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("value", f.value());
        m.put("ci_low", f.low());
        m.put("ci_high", f.high());
        m.put("n", f.n());
        m.put("method", f.method());
        return m;
    }
}
