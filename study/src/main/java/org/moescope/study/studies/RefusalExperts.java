package org.moescope.study.studies;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.model.config.ModelConfig;
import org.moescope.probe.profile.Profile;
import org.moescope.runtime.RoutingRecorder;
import org.moescope.study.Data;
import org.moescope.study.Profiles;
import org.moescope.study.Profiles.LayerExpert;
import org.moescope.study.Progress;
import org.moescope.study.Study;
import org.moescope.study.RoutingSource;
import org.moescope.study.StudyContext;
import org.moescope.study.StudyOutput;
import org.moescope.study.eval.Evaluator;
import org.moescope.study.report.Html;
import org.moescope.study.report.Svg;
import org.moescope.study.stats.Figure;
import org.moescope.study.stats.Stats;

/**
 * Refusal experts (MoTE, Wang et al. 2025): fTRI = an expert's activation frequency on harmful
 * prompts minus on harmless ones; disabling the top-K should cut refusals, disabling K random
 * experts (the control) should not, forcing them on harmless prompts should add refusals. Side
 * effects: the harmless-answer rate and arithmetic accuracy. The SteerMoE variant (Fayyaz et al.
 * 2025) lowers the router logits of harmful-associated experts and raises those of
 * harmless-associated ones instead of disabling. Writes the winning profile.
 */
public final class RefusalExperts implements Study {
    @Override public String name() { return "refusal-experts"; }

    @Override public String description() { return "experts tied to refusal (fTRI), their ablation with a random control, SteerMoE router steering"; }

    @Override
    public StudyOutput run(StudyContext ctx) {
        List<JsonNode> rows = Data.read(ctx.data(), "prompt", "harmful");
        List<String> harmful = new ArrayList<>(), harmless = new ArrayList<>();
        for (JsonNode r : rows) (r.get("harmful").asBoolean() ? harmful : harmless).add(r.get("prompt").asText());
        Path arithFile = Path.of(ctx.option("arith", ctx.data().resolveSibling("arith-dev.jsonl").toString()));
        int arithCount = ctx.option("arith_n", 60);
        int tokens = ctx.option("tokens", 16);
        int[] ks = java.util.Arrays.stream(ctx.option("k", "1,2,4,8,16").split(",")).mapToInt(Integer::parseInt).toArray();
        int seeds = ctx.option("random_seeds", 3);
        Evaluator ev = ctx.evaluator();
        ModelConfig config = ctx.model().file().config();
        StudyOutput out = new StudyOutput(name(), ctx.model().file().path(), ctx.data());
        out.parameter("k", ks).parameter("tokens", tokens).parameter("random_seeds", seeds).parameter("seed", ctx.seed());

        int work = 2 * harmful.size() + harmless.size() + (harmful.size() + harmless.size()) * (1 + ks.length) + seeds * ks.length * harmful.size()
                + ks.length * harmless.size() + 3 * arithCount + 4 * harmful.size();
        try (Progress progress = new Progress(name(), work, "runs")) {
            long[] done = {0};
            // 1. fTRI from the routing of prompt tokens
            String tokenSet = ctx.option("tokens_for_ftri", "decision");
            out.parameter("tokens_for_ftri", tokenSet);
            RoutingSource source = ctx.routing();
            double[][] harmfulFreq = frequencies(ev, source, harmful, config, tokenSet, tokens, done, progress);
            double[][] harmlessFreq = frequencies(ev, source, harmless, config, tokenSet, tokens, done, progress);
            // specificity (on by default): an expert must be more active on harmful prompts than on harmless ones AND
            // than on an unrelated task (arithmetic), so that removing it spares general abilities
            boolean specific = Boolean.parseBoolean(ctx.option("specific", "true"));
            out.parameter("specific", specific);
            double[][] generalFreq = null;
            if (specific) {
                List<String> general = Data.read(arithFile, "prompt").stream().map(r -> r.get("prompt").asText()).toList();
                generalFreq = frequencies(ev, source, general.subList(general.size() / 2, Math.min(general.size(), general.size() / 2 + harmless.size())),
                        config, tokenSet, tokens, done, progress);
            }
            List<LayerExpert> ranking = new ArrayList<>();
            double[][] ftri = new double[config.layerCount()][config.moe().experts()];
            double[][] score = new double[config.layerCount()][config.moe().experts()];
            for (int l = 0; l < config.layerCount(); l++) {
                if (!config.isMoeLayer(l)) continue;
                for (int e = 0; e < config.moe().experts(); e++) {
                    ftri[l][e] = harmfulFreq[l][e] - harmlessFreq[l][e];
                    score[l][e] = generalFreq == null ? ftri[l][e] : harmfulFreq[l][e] - Math.max(harmlessFreq[l][e], generalFreq[l][e]);
                    ranking.add(new LayerExpert(l, e));
                }
            }
            ranking.sort(Comparator.comparingDouble((LayerExpert le) -> -score[le.layer()][le.expert()]));
            List<LayerExpert> harmlessSide = new ArrayList<>(ranking);
            Collections.reverse(harmlessSide);

            // 2. base rates
            Rates base = rates(ev, harmful, harmless, null, tokens, done, progress);
            Figure baseArith = arithmetic(ev, arithFile, arithCount, null, done, progress);
            out.figure("base.harmful_refusal", base.harmful).figure("base.harmless_refusal", base.harmless).figure("base.arithmetic", baseArith);

            // 3. K sweep: disable top-K; control: K random experts; force top-K on harmless prompts
            List<Map<String, Object>> sweep = new ArrayList<>();
            Map<Integer, Rates> disabled = new LinkedHashMap<>();
            Map<Integer, Figure> randomRefusal = new LinkedHashMap<>();
            Map<Integer, Figure> forcedRefusal = new LinkedHashMap<>();
            for (int k : ks) {
                Profile p = Profiles.experts("disable-top-" + k + "-refusal-experts", "disable", ranking.subList(0, k));
                Rates r = rates(ev, harmful, harmless, p, tokens, done, progress);
                disabled.put(k, r);
                boolean[] randomOutcomes = new boolean[seeds * harmful.size()];
                for (int s = 0; s < seeds; s++) {
                    List<LayerExpert> shuffled = new ArrayList<>(ranking);
                    Collections.shuffle(shuffled, new java.util.Random(ctx.seed() + 31L * s + k));
                    Profile random = Profiles.experts("disable-" + k + "-random", "disable", shuffled.subList(0, k));
                    var gens = ev.generate(harmful, random, tokens, true, false, null);
                    for (int i = 0; i < gens.size(); i++) randomOutcomes[s * harmful.size() + i] = Evaluator.refused(gens.get(i).text());
                    done[0] += harmful.size();
                    progress.update(done[0]);
                }
                randomRefusal.put(k, Stats.proportion(randomOutcomes, ctx.seed()));
                Profile force = Profiles.experts("force-top-" + k, "force", ranking.subList(0, k));
                forcedRefusal.put(k, refusalRate(ev, harmless, force, tokens, ctx.seed(), done, progress));
                sweep.add(Map.of("k", k, "harmful_refusal", r.harmful.value(), "harmless_refusal", r.harmless.value(),
                        "random_harmful_refusal", randomRefusal.get(k).value(), "forced_harmless_refusal", forcedRefusal.get(k).value()));
                out.figure("disable_top_" + k + ".harmful_refusal", r.harmful).figure("disable_top_" + k + ".harmless_refusal", r.harmless)
                        .control("disable_random_" + k + ".harmful_refusal", randomRefusal.get(k))
                        .figure("force_top_" + k + ".harmless_refusal", forcedRefusal.get(k));
            }
            out.table("sweep", sweep);

            // 4. the winner: the smallest K halving harmful refusals while harmless answers stay within 2 points
            int winner = -1;
            for (int k : ks) {
                Rates r = disabled.get(k);
                boolean halves = r.harmful.value() <= base.harmful.value() * 0.5;
                boolean harmlessKept = Math.abs(r.harmless.value() - base.harmless.value()) <= 0.02 || r.harmless.value() < base.harmless.value();
                if (halves && harmlessKept) {
                    winner = k;
                    break;
                }
            }
            if (winner < 0) {
                double best = Double.POSITIVE_INFINITY;
                for (int k : ks) if (disabled.get(k).harmful.value() < best) {
                    best = disabled.get(k).harmful.value();
                    winner = k;
                }
            }
            Profile winning = Profiles.experts("fewer-refusals", "disable", ranking.subList(0, winner));
            Figure winnerArith = arithmetic(ev, arithFile, arithCount, winning, done, progress);
            Rates w = disabled.get(winner);
            double reduction = 1 - w.harmful.value() / Math.max(1e-9, base.harmful.value());
            double randomReduction = 1 - randomRefusal.get(winner).value() / Math.max(1e-9, base.harmful.value());
            out.value("winner.k", winner).figure("winner.arithmetic", winnerArith)
                    .value("winner.relative_refusal_reduction", reduction).value("winner.random_control_relative_reduction", randomReduction)
                    .value("winner.harmless_answer_rate_change", (1 - w.harmless.value()) - (1 - base.harmless.value()))
                    .value("winner.arithmetic_change", winnerArith.value() - baseArith.value());
            out.profile("winner", winning.json());
            writeProfile(ctx.output("profile.json"), winning);

            // 5. SteerMoE: router-logit adjustment instead of disabling
            Profile steer = Profiles.bias("steermoe-" + winner, ranking.subList(0, winner), harmlessSide.subList(0, winner),
                    ctx.option("steer_bias", 2.0));
            Rates steered = rates(ev, harmful, harmless, steer, tokens, done, progress);
            out.figure("steermoe.harmful_refusal", steered.harmful).figure("steermoe.harmless_refusal", steered.harmless);
            out.profile("steermoe", steer.json());

            List<LayerExpert> top = ranking.subList(0, Math.min(16, ranking.size()));
            List<Map<String, Object>> topTable = new ArrayList<>();
            for (LayerExpert le : top) {
                topTable.add(Map.of("layer", le.layer(), "expert", le.expert(), "ftri", ftri[le.layer()][le.expert()],
                        "harmful_frequency", harmfulFreq[le.layer()][le.expert()], "harmless_frequency", harmlessFreq[le.layer()][le.expert()]));
            }
            out.table("top_experts", topTable);
            out.write(ctx.output("summary.json"));
            report(ctx, out, config, ftri, ks, base, disabled, randomRefusal, forcedRefusal, winner, reduction, randomReduction, topTable, steered);
        }
        return out;
    }

    record Rates(Figure harmful, Figure harmless) {}

    private static Rates rates(Evaluator ev, List<String> harmful, List<String> harmless, Profile p, int tokens, long[] done, Progress progress) {
        Figure h = refusalRate(ev, harmful, p, tokens, 1, done, progress);
        Figure s = refusalRate(ev, harmless, p, tokens, 2, done, progress);
        return new Rates(h, s);
    }

    private static Figure refusalRate(Evaluator ev, List<String> prompts, Profile p, int tokens, long seed, long[] done, Progress progress) {
        var gens = ev.generate(prompts, p, tokens, true, false, null);
        boolean[] refused = new boolean[gens.size()];
        for (int i = 0; i < refused.length; i++) refused[i] = Evaluator.refused(gens.get(i).text());
        done[0] += prompts.size();
        progress.update(done[0]);
        return Stats.proportion(refused, seed);
    }

    static Figure arithmetic(Evaluator ev, Path file, int count, Profile p, long[] done, Progress progress) {
        List<JsonNode> rows = Data.read(file, "prompt", "answer");
        rows = rows.subList(0, Math.min(count, rows.size()));
        List<String> prompts = rows.stream().map(r -> r.get("prompt").asText()).toList();
        var gens = ev.generate(prompts, p, 64, true, false, null);
        boolean[] correct = new boolean[gens.size()];
        for (int i = 0; i < correct.length; i++) {
            Long a = Evaluator.answer(gens.get(i).text());
            correct[i] = a != null && a == rows.get(i).get("answer").asLong();
        }
        if (progress != null) {
            done[0] += count;
            progress.update(done[0]);
        }
        return Stats.proportion(correct, 7);
    }

    /**
     * Activation frequency of every (layer, expert) over a set of tokens: the whole prompt
     * ("prompt"), the last three prompt tokens where the model decides how to answer ("decision"),
     * or the first generated tokens of the answer ("response", the default: where a refusal is
     * actually produced).
     */
    /** The prompt sets whose routing the fTRI needs (chat prompts): the data's prompts and the general ones. */
    public static List<String> collectionPrompts(Path data, java.util.Map<String, String> options) {
        List<String> out = new ArrayList<>();
        for (JsonNode r : Data.read(data, "prompt", "harmful")) out.add(r.get("prompt").asText());
        Path arithFile = Path.of(options.getOrDefault("arith", data.resolveSibling("arith-dev.jsonl").toString()));
        List<String> general = Data.read(arithFile, "prompt").stream().map(r -> r.get("prompt").asText()).toList();
        out.addAll(general.subList(general.size() / 2, general.size()));
        return out;
    }

    private static double[][] frequencies(Evaluator ev, RoutingSource source, List<String> prompts, ModelConfig config, String tokenSet, int maxTokens, long[] done,
                                          Progress progress) {
        double[][] freq = new double[config.layerCount()][config.isMoe() ? config.moe().experts() : 0];
        long tokens = 0;
        for (String p : prompts) {
            List<RoutingRecorder.TokenRouting> routing;
            switch (tokenSet) {
                case "prompt" -> routing = source.promptRouting(p, true);
                case "decision" -> {
                    List<RoutingRecorder.TokenRouting> all = source.promptRouting(p, true);
                    routing = all.subList(Math.max(0, all.size() - 3), all.size());
                }
                case "response" -> {
                    var g = ev.generate(List.of(p), null, maxTokens, true, true, null).getFirst();
                    routing = g.routing().subList(g.promptTokens().length, g.routing().size());
                }
                default -> throw new IllegalArgumentException("tokens_for_ftri must be prompt, decision or response");
            }
            for (RoutingRecorder.TokenRouting t : routing) {
                tokens++;
                for (int l = 0; l < t.experts().length; l++) {
                    if (t.experts()[l] == null) continue;
                    for (int e : t.experts()[l]) freq[l][e]++;
                }
            }
            done[0]++;
            progress.update(done[0]);
        }
        for (double[] layer : freq) for (int e = 0; e < layer.length; e++) layer[e] /= tokens;
        return freq;
    }

    static void writeProfile(Path file, Profile p) {
        try {
            new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), p.json());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void report(StudyContext ctx, StudyOutput out, ModelConfig config, double[][] ftri, int[] ks, Rates base, Map<Integer, Rates> disabled,
                        Map<Integer, Figure> random, Map<Integer, Figure> forced, int winner, double reduction, double randomReduction,
                        List<Map<String, Object>> top, Rates steered) {
        Html html = new Html("Refusal experts — " + ctx.model().file().path().getFileName());
        html.paragraph(String.format("Disabling the %d experts with the highest fTRI cuts harmful-prompt refusals by %.0f%% (relative); "
                + "disabling %d random experts cuts them by %.0f%%.", winner, 100 * reduction, winner, 100 * randomReduction));
        double[] x = java.util.Arrays.stream(ks).asDoubleStream().toArray();
        html.figure(Svg.lineChart("Harmful-prompt refusal rate vs experts disabled", "K experts disabled", "refusal rate", x, List.of(
                series("top-K by fTRI", ks, k -> disabled.get(k).harmful), series("K random (control)", ks, random::get),
                series("harmless refusal, top-K disabled", ks, k -> disabled.get(k).harmless),
                series("harmless refusal, top-K forced", ks, forced::get))), "95% bootstrap bands; base harmful refusal " + base.harmful
                + ", base harmless refusal " + base.harmless + ".");
        String[] layers = new String[config.layerCount()];
        for (int l = 0; l < layers.length; l++) layers[l] = String.valueOf(l);
        String[] experts = new String[config.moe().experts()];
        for (int e = 0; e < experts.length; e++) experts[e] = String.valueOf(e);
        html.figure(Svg.heatmap("fTRI: harmful minus harmless activation frequency", "layer", "expert", layers, experts, ftri),
                "Each cell: the share of harmful-prompt tokens routed to the expert minus the share of harmless-prompt tokens.");
        html.figure(Svg.barChart("Refusal rates", "rate", List.of(
                new Svg.Bar("base harmful", base.harmful.value(), base.harmful.low(), base.harmful.high()),
                new Svg.Bar("top-" + winner + " off, harmful", disabled.get(winner).harmful.value(), disabled.get(winner).harmful.low(), disabled.get(winner).harmful.high()),
                new Svg.Bar(winner + " random off, harmful", random.get(winner).value(), random.get(winner).low(), random.get(winner).high()),
                new Svg.Bar("SteerMoE, harmful", steered.harmful.value(), steered.harmful.low(), steered.harmful.high()),
                new Svg.Bar("base harmless", base.harmless.value(), base.harmless.low(), base.harmless.high()),
                new Svg.Bar("top-" + winner + " off, harmless", disabled.get(winner).harmless.value(), disabled.get(winner).harmless.low(), disabled.get(winner).harmless.high()))),
                "Bars: refusal rate with 95% bootstrap intervals.");
        html.heading("Top experts by fTRI");
        List<List<String>> rows = new ArrayList<>();
        for (var r : top) rows.add(List.of(String.valueOf(r.get("layer")), String.valueOf(r.get("expert")), String.format("%.4f", (double) r.get("ftri")),
                String.format("%.4f", (double) r.get("harmful_frequency")), String.format("%.4f", (double) r.get("harmless_frequency"))));
        html.table(List.of("layer", "expert", "fTRI", "harmful freq", "harmless freq"), rows);
        html.details("summary.json", out.json().toPrettyString());
        html.write(ctx.output("report.html"));
    }

    private static Svg.Series series(String name, int[] ks, java.util.function.IntFunction<Figure> f) {
        double[] y = new double[ks.length], lo = new double[ks.length], hi = new double[ks.length];
        for (int i = 0; i < ks.length; i++) {
            Figure g = f.apply(ks[i]);
            y[i] = g.value();
            lo[i] = g.low();
            hi[i] = g.high();
        }
        return new Svg.Series(name, y, lo, hi);
    }

    static SplittableRandom random(long seed) { return new SplittableRandom(seed); }
}
