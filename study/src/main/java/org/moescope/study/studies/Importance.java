package org.moescope.study.studies;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.moescope.model.config.ModelConfig;
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
 * Which experts matter, measured both ways: observational statistics (frequency, mean weight,
 * EASY-EP, REAP) and causal importance (the increase in mean token loss when that expert alone is
 * disabled), with the Spearman correlation between each statistic and causal importance per layer.
 */
public final class Importance implements Study {
    static final String[] STATISTICS = {"frequency", "mean_weight", "easy_ep", "reap"};

    @Override public String name() { return "importance"; }

    @Override public String description() { return "observational expert statistics against causal importance (loss when disabled), Spearman per layer"; }

    /** Every statistic and the causal importance, [statistic][layer][expert]. */
    record Scores(Map<String, double[][]> values, double baseLoss) {}

    static Scores measure(StudyContext ctx, List<String> texts, Progress progress, long[] done) {
        ModelConfig config = ctx.model().file().config();
        ExpertStatistics stats = new ExpertStatistics(config);
        stats.run(ctx.model(), texts);
        int layers = config.layerCount(), experts = config.moe().experts();
        Map<String, double[][]> values = new LinkedHashMap<>();
        for (String s : STATISTICS) values.put(s, new double[layers][experts]);
        double[][] causal = new double[layers][experts];
        values.put("causal", causal);
        Evaluator ev = ctx.evaluator();
        double base = meanLoss(ev, texts, null);
        for (int l = 0; l < layers; l++) {
            if (!config.isMoeLayer(l)) continue;
            for (int e = 0; e < experts; e++) {
                values.get("frequency")[l][e] = stats.frequency(l, e);
                values.get("mean_weight")[l][e] = stats.meanWeight(l, e);
                values.get("easy_ep")[l][e] = stats.easyEp(l, e);
                values.get("reap")[l][e] = stats.reap(l, e);
                causal[l][e] = meanLoss(ev, texts, Profiles.experts("disable-" + l + "-" + e, "disable", List.of(new LayerExpert(l, e)))) - base;
                if (progress != null) progress.update(++done[0]);
            }
        }
        return new Scores(values, base);
    }

    static double meanLoss(Evaluator ev, List<String> texts, org.moescope.probe.profile.Profile p) {
        double sum = 0;
        int n = 0;
        for (String t : texts) {
            double v = ev.meanNll(t, p);
            if (Double.isFinite(v)) {
                sum += v;
                n++;
            }
        }
        return sum / n;
    }

    @Override
    public StudyOutput run(StudyContext ctx) {
        List<String> texts = Calibration.texts(ctx, ctx.option("texts", 48));
        ModelConfig config = ctx.model().file().config();
        StudyOutput out = new StudyOutput(name(), ctx.model().file().path(), ctx.data());
        out.parameter("texts", texts.size());
        Scores scores;
        int units = config.layerCount() * config.moe().experts();
        try (Progress progress = new Progress(name(), units, "experts")) {
            scores = measure(ctx, texts, progress, new long[] {0});
        }
        out.value("base_mean_token_loss", scores.baseLoss());
        double[][] causal = scores.values().get("causal");
        List<Map<String, Object>> correlations = new ArrayList<>();
        Map<String, Figure[]> perStatistic = new LinkedHashMap<>();
        List<Integer> moe = new ArrayList<>();
        for (int l = 0; l < config.layerCount(); l++) if (config.isMoeLayer(l)) moe.add(l);
        for (String s : STATISTICS) {
            Figure[] f = new Figure[moe.size()];
            for (int i = 0; i < moe.size(); i++) {
                int l = moe.get(i);
                f[i] = Stats.spearmanWithInterval(scores.values().get(s)[l], causal[l], ctx.seed() + l);
                out.figure("spearman." + s + ".layer_" + l, f[i]);
                correlations.add(Map.of("statistic", s, "layer", l, "spearman", f[i].value(), "ci_low", f[i].low(), "ci_high", f[i].high()));
            }
            perStatistic.put(s, f);
        }
        out.table("spearman", correlations);
        List<Map<String, Object>> experts = new ArrayList<>();
        for (int l : moe) for (int e = 0; e < config.moe().experts(); e++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("layer", l);
            row.put("expert", e);
            for (var v : scores.values().entrySet()) row.put(v.getKey(), v.getValue()[l][e]);
            experts.add(row);
        }
        out.table("experts", experts);
        out.write(ctx.output("summary.json"));

        Html html = new Html("Expert importance — " + ctx.model().file().path().getFileName());
        html.paragraph(String.format("Causal importance: the increase in mean token loss on %d calibration texts (base %.4f nats) when one expert is "
                + "disabled. Spearman correlations of each observational statistic with it, per layer, with 95%% bootstrap intervals over experts.",
                texts.size(), scores.baseLoss()));
        double[] x = moe.stream().mapToDouble(Integer::doubleValue).toArray();
        List<Svg.Series> series = new ArrayList<>();
        for (var e : perStatistic.entrySet()) series.add(CognitiveExperts.series(e.getKey(), e.getValue()));
        html.figure(Svg.lineChart("Does a cheap statistic predict causal importance?", "layer", "Spearman ρ with causal importance", x, series), "");
        String[] layerNames = moe.stream().map(String::valueOf).toArray(String[]::new);
        String[] expertNames = new String[config.moe().experts()];
        for (int e = 0; e < expertNames.length; e++) expertNames[e] = String.valueOf(e);
        double[][] causalRows = moe.stream().map(l -> causal[l]).toArray(double[][]::new);
        html.figure(Svg.heatmap("Causal importance (Δ loss when disabled)", "layer", "expert", layerNames, expertNames, causalRows), "");
        int l0 = moe.getFirst();
        double[] freq = scores.values().get("frequency")[l0];
        String[] labels = new String[freq.length];
        for (int e = 0; e < labels.length; e++) labels[e] = "layer " + l0 + " expert " + e;
        html.figure(Svg.scatter("Frequency vs causal importance, layer " + l0, "selection frequency", "Δ loss", freq, causal[l0], labels), "");
        html.details("summary.json", out.json().toPrettyString());
        html.write(ctx.output("report.html"));
        return out;
    }
}
