package org.moescope.study.studies;

import java.util.ArrayList;
import java.util.Comparator;
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

/**
 * Super experts (Su et al. 2025, "Unveiling Super Experts in MoE LLMs"): experts whose outputs
 * carry massive activations — a max |activation| far above the other experts', at specific
 * channels. Lists them and measures perplexity with each disabled, against ordinary experts.
 */
public final class SuperExperts implements Study {
    @Override public String name() { return "super-experts"; }

    @Override public String description() { return "experts with massive output activations, and the perplexity cost of disabling each"; }

    @Override
    public StudyOutput run(StudyContext ctx) {
        ModelConfig config = ctx.model().file().config();
        List<String> texts = Calibration.texts(ctx, ctx.option("texts", 48));
        double threshold = ctx.option("outlier_factor", 5.0);
        StudyOutput out = new StudyOutput(name(), ctx.model().file().path(), ctx.data());
        out.parameter("texts", texts.size()).parameter("outlier_factor", threshold);
        ExpertStatistics stats = new ExpertStatistics(config);
        List<Map<String, Object>> rows = new ArrayList<>();
        List<LayerExpert> all = new ArrayList<>();
        try (Progress progress = new Progress(name(), 16, "steps")) {
            stats.run(ctx.model(), texts);
            List<Double> peaks = new ArrayList<>();
            for (int l = 0; l < config.layerCount(); l++) {
                if (!config.isMoeLayer(l)) continue;
                for (int e = 0; e < config.moe().experts(); e++) {
                    if (stats.count[l][e] == 0) continue;
                    peaks.add(stats.maxActivation[l][e]);
                    all.add(new LayerExpert(l, e));
                }
            }
            double median = peaks.stream().sorted().toList().get(peaks.size() / 2);
            all.sort(Comparator.comparingDouble((LayerExpert le) -> -stats.maxActivation[le.layer()][le.expert()]));
            List<LayerExpert> superExperts = all.stream().filter(le -> stats.maxActivation[le.layer()][le.expert()] >= threshold * median).toList();
            out.value("median_peak_activation", median).value("super_experts", superExperts.size());
            Evaluator ev = ctx.evaluator();
            double base = Math.exp(Importance.meanLoss(ev, texts, null));
            out.value("base_perplexity", base);
            // the strongest candidates (at least 3, even if below the threshold) and ordinary experts around the median
            List<LayerExpert> tested = new ArrayList<>(all.subList(0, Math.max(3, Math.min(superExperts.size(), 8))));
            int mid = all.size() / 2;
            List<LayerExpert> ordinary = all.subList(Math.max(0, mid - 3), Math.min(all.size(), mid + 3));
            int step = 0;
            for (LayerExpert le : tested) {
                double ppl = Math.exp(Importance.meanLoss(ev, texts, Profiles.experts("disable", "disable", List.of(le))));
                rows.add(row(le, stats, median, ppl, superExperts.contains(le) ? "super" : "strongest"));
                progress.update(++step);
            }
            for (LayerExpert le : ordinary) {
                double ppl = Math.exp(Importance.meanLoss(ev, texts, Profiles.experts("disable", "disable", List.of(le))));
                rows.add(row(le, stats, median, ppl, "ordinary"));
                progress.update(++step);
            }
            out.table("experts", rows);
            double superMean = rows.stream().filter(r -> !r.get("kind").equals("ordinary")).mapToDouble(r -> (double) r.get("perplexity")).average().orElse(Double.NaN);
            double ordinaryMean = rows.stream().filter(r -> r.get("kind").equals("ordinary")).mapToDouble(r -> (double) r.get("perplexity")).average().orElse(Double.NaN);
            out.value("mean_perplexity_disabling_strongest", superMean).value("mean_perplexity_disabling_ordinary", ordinaryMean);
            out.write(ctx.output("summary.json"));

            Html html = new Html("Super experts — " + ctx.model().file().path().getFileName());
            html.paragraph(String.format("Peak |activation| of each expert's output over %d texts; median %.3f; %d experts exceed %.0f× the median. "
                    + "Perplexity %.3f; disabling one of the strongest: %.3f on average; an ordinary one: %.3f.", texts.size(), median,
                    superExperts.size(), threshold, base, superMean, ordinaryMean));
            String[] layerNames = new String[config.layerCount()], expertNames = new String[config.moe().experts()];
            for (int l = 0; l < layerNames.length; l++) layerNames[l] = String.valueOf(l);
            for (int e = 0; e < expertNames.length; e++) expertNames[e] = String.valueOf(e);
            html.figure(Svg.heatmap("Peak |activation| of expert outputs", "layer", "expert", layerNames, expertNames, stats.maxActivation), "");
            List<Svg.Bar> bars = new ArrayList<>();
            for (var r : rows) bars.add(new Svg.Bar(r.get("kind") + " " + r.get("layer") + "/" + r.get("expert"), (double) r.get("perplexity"), Double.NaN, Double.NaN));
            html.figure(Svg.barChart("Perplexity with one expert disabled", "perplexity", bars), "Base perplexity " + String.format("%.3f", base) + ".");
            List<List<String>> table = new ArrayList<>();
            for (var r : rows) table.add(List.of(r.get("kind").toString(), r.get("layer").toString(), r.get("expert").toString(),
                    String.format("%.3f", (double) r.get("peak")), r.get("channel").toString(), String.format("%.3f", (double) r.get("perplexity"))));
            html.table(List.of("kind", "layer", "expert", "peak |activation|", "channel", "perplexity when disabled"), table);
            html.details("summary.json", out.json().toPrettyString());
            html.write(ctx.output("report.html"));
        }
        return out;
    }

    private static Map<String, Object> row(LayerExpert le, ExpertStatistics s, double median, double ppl, String kind) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("layer", le.layer());
        m.put("expert", le.expert());
        m.put("peak", s.maxActivation[le.layer()][le.expert()]);
        m.put("peak_over_median", s.maxActivation[le.layer()][le.expert()] / median);
        m.put("channel", s.maxChannel[le.layer()][le.expert()]);
        m.put("perplexity", ppl);
        return m;
    }
}
