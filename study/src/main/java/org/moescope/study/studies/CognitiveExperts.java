package org.moescope.study.studies;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.model.config.ModelConfig;
import org.moescope.probe.profile.Profile;
import org.moescope.study.Data;
import org.moescope.study.Profiles;
import org.moescope.study.Profiles.LayerExpert;
import org.moescope.study.Progress;
import org.moescope.study.Study;
import org.moescope.study.StudyContext;
import org.moescope.study.StudyOutput;
import org.moescope.study.eval.Evaluator;
import org.moescope.study.report.Html;
import org.moescope.study.report.Svg;
import org.moescope.study.stats.Figure;
import org.moescope.study.stats.Stats;

/**
 * Cognitive experts (RICE, Wang et al. 2025 "Two Experts Are All You Need for Steering Thinking"):
 * the normalised PMI between an expert being selected and the token lying inside the model's
 * {@code <think>…</think>} span, over generated tokens of arithmetic problems; the top experts'
 * routing weights are then scaled by α (reinforcement) and arithmetic accuracy measured against
 * the same scaling of random experts.
 */
public final class CognitiveExperts implements Study {
    @Override public String name() { return "cognitive-experts"; }

    @Override public String description() { return "experts tied to <think> spans (nPMI) and their reinforcement, with a random control"; }

    @Override
    public StudyOutput run(StudyContext ctx) {
        List<JsonNode> rows = Data.read(ctx.data(), "prompt", "answer");
        int n = Math.min(ctx.option("n", 100), rows.size());
        int tokens = ctx.option("tokens", 64);
        int topExperts = ctx.option("top", 2);
        double[] alphas = java.util.Arrays.stream(ctx.option("alpha", "1,1.5,2,3").split(",")).mapToDouble(Double::parseDouble).toArray();
        List<JsonNode> discover = rows.subList(0, n / 2), evaluate = rows.subList(n / 2, n);
        ModelConfig config = ctx.model().file().config();
        Evaluator ev = ctx.evaluator();
        StudyOutput out = new StudyOutput(name(), ctx.model().file().path(), ctx.data());
        out.parameter("n", n).parameter("tokens", tokens).parameter("top", topExperts).parameter("alpha", alphas)
                .parameter("split", "first half discovers the experts, second half evaluates");
        int think = ctx.model().tokenizer().tokenId("<think>").orElse(-1), endThink = ctx.model().tokenizer().tokenId("</think>").orElse(-1);
        if (think < 0 || endThink < 0) throw new IllegalArgumentException("the model's vocabulary has no <think>/</think> tokens");
        try (Progress progress = new Progress(name(), discover.size() + (long) evaluate.size() * (alphas.length * 2 + 2), "runs")) {
            long[] done = {0};
            // 1. nPMI over generated tokens: selected(layer, expert) × inside-think
            var gens = ev.generate(discover.stream().map(r -> r.get("prompt").asText()).toList(), null, tokens, true, true, i -> progress.update(++done[0]));
            long total = 0, thinking = 0;
            long[][] selected = new long[config.layerCount()][config.moe().experts()], both = new long[config.layerCount()][config.moe().experts()];
            for (var g : gens) {
                boolean inside = false;
                for (int t = g.promptTokens().length; t < g.routing().size(); t++) {
                    var r = g.routing().get(t);
                    int token = r.token();
                    if (token == think) inside = true;
                    boolean counts = inside && token != think;
                    if (token == endThink) inside = false;
                    total++;
                    if (counts) thinking++;
                    for (int l = 0; l < r.experts().length; l++) {
                        if (r.experts()[l] == null) continue;
                        for (int e : r.experts()[l]) {
                            selected[l][e]++;
                            if (counts) both[l][e]++;
                        }
                    }
                }
            }
            double[][] npmi = new double[config.layerCount()][config.moe().experts()];
            List<LayerExpert> ranking = new ArrayList<>();
            for (int l = 0; l < config.layerCount(); l++) {
                if (!config.isMoeLayer(l)) continue;
                for (int e = 0; e < config.moe().experts(); e++) {
                    npmi[l][e] = selected[l][e] == 0 ? -1 : Stats.npmi(both[l][e], selected[l][e], thinking, total);
                    ranking.add(new LayerExpert(l, e));
                }
            }
            ranking.sort(Comparator.comparingDouble((LayerExpert le) -> -npmi[le.layer()][le.expert()]));
            List<LayerExpert> top = ranking.subList(0, topExperts);
            out.value("think_token_share", thinking / (double) Math.max(1, total)).value("tokens_observed", total);
            List<Map<String, Object>> topTable = new ArrayList<>();
            for (LayerExpert le : ranking.subList(0, Math.min(12, ranking.size()))) {
                topTable.add(Map.of("layer", le.layer(), "expert", le.expert(), "npmi", npmi[le.layer()][le.expert()],
                        "selected", selected[le.layer()][le.expert()], "selected_in_think", both[le.layer()][le.expert()]));
            }
            out.table("top_experts_by_npmi", topTable);

            // 2. reinforcement: scale the top experts' weights by α, against α on random experts
            List<String> prompts = evaluate.stream().map(r -> r.get("prompt").asText()).toList();
            double[] answers = evaluate.stream().mapToDouble(r -> r.get("answer").asDouble()).toArray();
            List<LayerExpert> random = new ArrayList<>(ranking);
            Collections.shuffle(random, new java.util.Random(ctx.seed()));
            random = random.subList(0, topExperts);
            Figure[] topAcc = new Figure[alphas.length], randomAcc = new Figure[alphas.length];
            for (int a = 0; a < alphas.length; a++) {
                Profile p = Profiles.scale("reinforce-thinking-" + alphas[a], top, alphas[a]);
                Profile q = Profiles.scale("reinforce-random-" + alphas[a], random, alphas[a]);
                topAcc[a] = accuracy(ev, prompts, answers, p, tokens, done, progress);
                randomAcc[a] = accuracy(ev, prompts, answers, q, tokens, done, progress);
                out.figure("alpha_" + alphas[a] + ".accuracy", topAcc[a]).control("alpha_" + alphas[a] + ".random_accuracy", randomAcc[a]);
                if (a == alphas.length - 1) {
                    out.profile("reinforce", p.json());
                    out.profile("control", q.json());
                }
            }
            // 3. ablation: the 4 experts most used on <think> tokens (selection counts inside think spans), disabled
            List<LayerExpert> mostUsed = new ArrayList<>(ranking);
            mostUsed.sort(Comparator.comparingLong((LayerExpert le) -> -both[le.layer()][le.expert()]));
            Profile off = Profiles.experts("disable-thinking-experts", "disable", mostUsed.subList(0, Math.min(4, mostUsed.size())));
            var baseGens = ev.generate(prompts, null, tokens, true, false, null);
            var offGens = ev.generate(prompts, off, tokens, true, false, null);
            boolean[] changed = new boolean[prompts.size()];
            boolean[] correctOff = new boolean[prompts.size()], correctBase = new boolean[prompts.size()];
            List<Map<String, Object>> examples = new ArrayList<>();
            for (int i = 0; i < changed.length; i++) {
                changed[i] = !baseGens.get(i).text().equals(offGens.get(i).text());
                Long a = Evaluator.answer(offGens.get(i).text()), b = Evaluator.answer(baseGens.get(i).text());
                correctOff[i] = a != null && a == (long) answers[i];
                correctBase[i] = b != null && b == (long) answers[i];
                if (changed[i] && examples.size() < 8) {
                    examples.add(Map.of("prompt", prompts.get(i), "base", baseGens.get(i).text(), "disabled", offGens.get(i).text()));
                }
            }
            out.figure("base.accuracy", Stats.proportion(correctBase, 13))
                    .figure("disable_top4.accuracy", Stats.proportion(correctOff, 13)).figure("disable_top4.answers_changed", Stats.proportion(changed, 13));
            out.table("disable_top4_examples", examples);
            out.profile("disable_top4", off.json());
            out.write(ctx.output("summary.json"));

            Html html = new Html("Cognitive experts — " + ctx.model().file().path().getFileName());
            html.paragraph(String.format("Over %d generated tokens of %d arithmetic problems (%.0f%% inside <think> spans), the experts whose "
                    + "selection is most associated with thinking tokens (nPMI) are %s. Scaling their routing weight by α changes accuracy on "
                    + "%d held-out problems as shown, against the same scaling of %d random experts.", total, discover.size(),
                    100.0 * thinking / Math.max(1, total), top, evaluate.size(), topExperts));
            html.figure(Svg.lineChart("Arithmetic accuracy vs reinforcement α", "α", "accuracy", alphas, List.of(
                    series("top nPMI experts", topAcc), series("random experts (control)", randomAcc))), "95% bootstrap bands.");
            String[] layers = new String[config.layerCount()], experts = new String[config.moe().experts()];
            for (int l = 0; l < layers.length; l++) layers[l] = String.valueOf(l);
            for (int e = 0; e < experts.length; e++) experts[e] = String.valueOf(e);
            html.figure(Svg.heatmap("nPMI(expert selected, token inside <think>)", "layer", "expert", layers, experts, npmi), "−1: never selected in thinking.");
            List<List<String>> tableRows = new ArrayList<>();
            for (var r : topTable) tableRows.add(List.of(r.get("layer").toString(), r.get("expert").toString(), String.format("%.3f", (double) r.get("npmi")),
                    r.get("selected").toString(), r.get("selected_in_think").toString()));
            html.table(List.of("layer", "expert", "nPMI", "selected", "selected in think"), tableRows);
            html.paragraph(String.format("Disabling the 4 experts most used on <think> tokens (%s) changes %d of %d answers; accuracy %.2f → %.2f.",
                    mostUsed.subList(0, Math.min(4, mostUsed.size())), count(changed), changed.length,
                    fraction(correctBase), fraction(correctOff)));
            List<List<String>> exampleRows = new ArrayList<>();
            for (var e : examples) exampleRows.add(List.of(e.get("prompt").toString(), e.get("base").toString(), e.get("disabled").toString()));
            html.table(List.of("prompt", "base", "4 thinking experts disabled"), exampleRows);
            html.details("summary.json", out.json().toPrettyString());
            html.write(ctx.output("report.html"));
        }
        return out;
    }

    private static Figure accuracy(Evaluator ev, List<String> prompts, double[] answers, Profile p, int tokens, long[] done, Progress progress) {
        var gens = ev.generate(prompts, p, tokens, true, false, null);
        boolean[] correct = new boolean[gens.size()];
        for (int i = 0; i < correct.length; i++) {
            Long a = Evaluator.answer(gens.get(i).text());
            correct[i] = a != null && a == (long) answers[i];
        }
        done[0] += prompts.size();
        progress.update(done[0]);
        return Stats.proportion(correct, 11);
    }

    private static int count(boolean[] b) {
        int n = 0;
        for (boolean x : b) if (x) n++;
        return n;
    }

    private static double fraction(boolean[] b) { return b.length == 0 ? Double.NaN : count(b) / (double) b.length; }

    static Svg.Series series(String name, Figure[] f) {
        double[] y = new double[f.length], lo = new double[f.length], hi = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            y[i] = f[i].value();
            lo[i] = f[i].low();
            hi[i] = f[i].high();
        }
        return new Svg.Series(name, y, lo, hi);
    }
}
