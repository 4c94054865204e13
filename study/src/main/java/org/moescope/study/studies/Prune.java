package org.moescope.study.studies;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.moescope.model.ModelFile;
import org.moescope.model.config.ModelConfig;
import org.moescope.model.edit.ExpertMerger;
import org.moescope.model.edit.ExpertPruner;
import org.moescope.runtime.TextModel;
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
 * Pruning to a smaller GGUF: in every MoE layer remove the least important experts by a statistic
 * (frequency, mean weight, EASY-EP, REAP, causal importance) or at random (the control), at 12.5%,
 * 25% and 50%, write the file, and measure the pruned model's perplexity on held-out texts. Merging
 * (MC-SMoE style) averages each dropped expert into its most similar kept one instead.
 */
public final class Prune implements Study {
    @Override public String name() { return "prune"; }

    @Override public String description() { return "prune or merge experts by each statistic into smaller GGUFs; perplexity vs random pruning"; }

    @Override
    public StudyOutput run(StudyContext ctx) {
        ModelFile file = ctx.model().file();
        if (file.format() != ModelFile.Format.GGUF) throw new IllegalArgumentException("prune writes GGUF files: give a .gguf model");
        ModelConfig config = file.config();
        List<String> texts = Calibration.texts(ctx, ctx.option("texts", 64));
        List<String> calibration = Calibration.half(texts, 0), heldOut = Calibration.half(texts, 1);
        double[] fractions = java.util.Arrays.stream(ctx.option("fractions", "0.125,0.25,0.5").split(",")).mapToDouble(Double::parseDouble).toArray();
        List<String> methods = new ArrayList<>(List.of(Importance.STATISTICS));
        methods.add("causal");
        methods.add("random");
        StudyOutput out = new StudyOutput(name(), file.path(), ctx.data());
        out.parameter("fractions", fractions).parameter("calibration_texts", calibration.size()).parameter("held_out_texts", heldOut.size());
        int experts = config.moe().experts();
        List<Map<String, Object>> results = new ArrayList<>();
        Map<String, double[]> curves = new LinkedHashMap<>();
        try (Progress progress = new Progress(name(), config.layerCount() * experts + (long) methods.size() * fractions.length + fractions.length, "steps")) {
            long[] done = {0};
            Importance.Scores scores = Importance.measure(new StudyContext(ctx.model(), ctx.data(), ctx.out(), null, ctx.seed(), ctx.options()),
                    calibration, progress, done);
            Evaluator base = ctx.evaluator();
            double basePpl = Math.exp(Importance.meanLoss(base, heldOut, null));
            out.value("base_perplexity", basePpl);
            ExpertStatistics usage = new ExpertStatistics(config);
            usage.run(ctx.model(), calibration);
            for (String method : methods) {
                double[] ppl = new double[fractions.length];
                for (int f = 0; f < fractions.length; f++) {
                    int drop = (int) Math.round(experts * fractions[f]);
                    int[][] dropped = leastImportant(config, scores, usage, method, drop, ctx.seed() + f);
                    Path target = ctx.output("pruned-" + method + "-" + Math.round(fractions[f] * 1000) + ".gguf");
                    ExpertPruner.prune(file.path(), ExpertPruner.dropping(config.layerCount(), experts, dropped), target);
                    ppl[f] = perplexity(target, heldOut);
                    results.add(row("prune", method, fractions[f], experts - drop, ppl[f], sizeOf(target)));
                    if (!ctx.option("keep_files", "false").equals("true") && !(method.equals("causal") && f == 0)) deleteQuietly(target);
                    progress.update(++done[0]);
                }
                curves.put("drop by " + method, ppl);
            }
            // merge: each dropped expert (by frequency) is averaged into its most co-selected kept expert
            double[] mergedPpl = new double[fractions.length];
            for (int f = 0; f < fractions.length; f++) {
                int drop = (int) Math.round(experts * fractions[f]);
                int[][] dropped = leastImportant(config, scores, usage, "frequency", drop, ctx.seed());
                Path target = ctx.output("merged-frequency-" + Math.round(fractions[f] * 1000) + ".gguf");
                ExpertMerger.merge(file.path(), dropped, usage.count, target);
                mergedPpl[f] = perplexity(target, heldOut);
                results.add(row("merge", "frequency", fractions[f], experts - drop, mergedPpl[f], sizeOf(target)));
                if (!ctx.option("keep_files", "false").equals("true")) deleteQuietly(target);
                progress.update(++done[0]);
            }
            curves.put("merge by frequency", mergedPpl);
        }
        out.table("results", results);
        for (var r : results) out.value(r.get("operation") + "." + r.get("method") + "." + r.get("fraction") + ".perplexity", r.get("perplexity"));
        out.write(ctx.output("summary.json"));
        Html html = new Html("Expert pruning — " + file.path().getFileName());
        html.paragraph("Perplexity on held-out texts of GGUF files with the least important experts of every layer removed, by each statistic, "
                + "against random removal; and merging instead of dropping. The files load in moescope and llama.cpp with the smaller expert count.");
        List<Svg.Series> series = new ArrayList<>();
        for (var e : curves.entrySet()) series.add(new Svg.Series(e.getKey(), e.getValue(), null, null));
        html.figure(Svg.lineChart("Perplexity after pruning", "fraction of experts removed per layer", "perplexity", fractions, series), "");
        List<List<String>> table = new ArrayList<>();
        for (var r : results) table.add(List.of(r.get("operation").toString(), r.get("method").toString(), r.get("fraction").toString(),
                r.get("experts_left").toString(), String.format("%.3f", (double) r.get("perplexity")), r.get("bytes").toString()));
        html.table(List.of("operation", "by", "fraction removed", "experts left", "perplexity", "file bytes"), table);
        html.details("summary.json", out.json().toPrettyString());
        html.write(ctx.output("report.html"));
        return out;
    }

    private static Map<String, Object> row(String operation, String method, double fraction, int left, double ppl, long bytes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("operation", operation);
        m.put("method", method);
        m.put("fraction", fraction);
        m.put("experts_left", left);
        m.put("perplexity", ppl);
        m.put("bytes", bytes);
        return m;
    }

    /** Per MoE layer, the {@code drop} experts with the lowest score (random: a seeded sample). */
    static int[][] leastImportant(ModelConfig config, Importance.Scores scores, ExpertStatistics usage, String method, int drop, long seed) {
        int[][] out = new int[config.layerCount()][];
        SplittableRandom r = new SplittableRandom(seed);
        for (int l = 0; l < config.layerCount(); l++) {
            if (!config.isMoeLayer(l)) continue;
            List<Integer> order = new ArrayList<>();
            for (int e = 0; e < config.moe().experts(); e++) order.add(e);
            if (method.equals("random")) {
                java.util.Collections.shuffle(order, new java.util.Random(r.nextLong()));
            } else {
                double[] s = scores.values().get(method)[l];
                order.sort(Comparator.comparingDouble(e -> s[e]));
            }
            out[l] = order.subList(0, drop).stream().mapToInt(Integer::intValue).toArray();
        }
        return out;
    }

    private static double perplexity(Path gguf, List<String> texts) {
        try (ModelFile m = ModelFile.open(gguf)) {
            return Math.exp(Importance.meanLoss(new Evaluator(TextModel.open(m)), texts, null));
        }
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (java.io.IOException ignored) {
            // a leftover file is harmless
        }
    }
}
