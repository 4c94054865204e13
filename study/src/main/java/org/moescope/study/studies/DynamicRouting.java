package org.moescope.study.studies;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.moescope.model.config.ModelConfig;
import org.moescope.probe.profile.Profile;
import org.moescope.study.Progress;
import org.moescope.study.Study;
import org.moescope.study.StudyContext;
import org.moescope.study.StudyOutput;
import org.moescope.study.eval.Evaluator;
import org.moescope.study.report.Html;
import org.moescope.study.report.Svg;

/**
 * Dynamic routing (top-p routing, Huang et al. 2024 "Harder Tasks Need More Experts"): select
 * experts until their probability mass reaches p, or a fixed top-k per layer; the trade-off between
 * experts computed per token and perplexity.
 */
public final class DynamicRouting implements Study {
    @Override public String name() { return "dynamic-routing"; }

    @Override public String description() { return "top-p and per-layer top-k routing profiles: experts per token vs perplexity"; }

    @Override
    public StudyOutput run(StudyContext ctx) {
        ModelConfig config = ctx.model().file().config();
        List<String> texts = Calibration.texts(ctx, ctx.option("texts", 48));
        int k = config.moe().expertsPerToken();
        StudyOutput out = new StudyOutput(name(), ctx.model().file().path(), ctx.data());
        List<Map<String, Object>> rows = new ArrayList<>();
        List<Profile> profiles = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (double p : new double[] {0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99}) {
            profiles.add(Profile.parse("{\"name\": \"top-p-" + p + "\", \"router\": {\"top_p\": " + p + "}}", null));
            labels.add("top_p=" + p);
        }
        for (int kk = 1; kk <= Math.min(config.moe().experts(), 2 * k); kk++) {
            profiles.add(Profile.parse("{\"name\": \"top-k-" + kk + "\", \"router\": {\"top_k\": " + kk + "}}", null));
            labels.add("top_k=" + kk);
        }
        Evaluator ev = ctx.evaluator();
        try (Progress progress = new Progress(name(), profiles.size(), "profiles")) {
            for (int i = 0; i < profiles.size(); i++) {
                Profile p = profiles.get(i);
                double experts = expertsPerToken(ctx, texts, p);
                double ppl = Math.exp(Importance.meanLoss(ev, texts, p));
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("profile", labels.get(i));
                row.put("experts_per_token", experts);
                row.put("perplexity", ppl);
                rows.add(row);
                out.value(labels.get(i) + ".experts_per_token", experts).value(labels.get(i) + ".perplexity", ppl);
                out.profile(labels.get(i), p.json());
                progress.update(i + 1);
            }
        }
        out.table("tradeoff", rows);
        out.write(ctx.output("summary.json"));
        Html html = new Html("Dynamic routing — " + ctx.model().file().path().getFileName());
        html.paragraph("Average routed experts per token per MoE layer against perplexity on " + texts.size() + " texts, for top-p routing "
                + "(selection until the probability mass reaches p) and fixed top-k (the model's own: k = " + k + ").");
        double[] x = rows.stream().mapToDouble(r -> (double) r.get("experts_per_token")).toArray();
        double[] y = rows.stream().mapToDouble(r -> (double) r.get("perplexity")).toArray();
        html.figure(Svg.scatter("Compute vs quality", "experts per token (per MoE layer)", "perplexity", x, y,
                rows.stream().map(r -> r.get("profile").toString()).toArray(String[]::new)), "Hover a point for its profile.");
        List<List<String>> table = new ArrayList<>();
        for (var r : rows) table.add(List.of(r.get("profile").toString(), String.format("%.3f", (double) r.get("experts_per_token")),
                String.format("%.3f", (double) r.get("perplexity"))));
        html.table(List.of("profile", "experts per token", "perplexity"), table);
        html.details("summary.json", out.json().toPrettyString());
        html.write(ctx.output("report.html"));
        return out;
    }

    private static double expertsPerToken(StudyContext ctx, List<String> texts, Profile p) {
        Evaluator ev = ctx.evaluator();
        long selections = 0, slots = 0;
        for (String t : texts) {
            int[] ids = ctx.model().encodePrompt(t);
            for (var r : ev.routing(ids, p)) {
                for (int[] layer : r.experts()) {
                    if (layer == null) continue;
                    selections += layer.length;
                    slots++;
                }
            }
        }
        return (double) selections / slots;
    }
}
