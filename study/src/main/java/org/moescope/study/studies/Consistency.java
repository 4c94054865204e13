package org.moescope.study.studies;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import org.moescope.model.config.ModelConfig;
import org.moescope.runtime.RoutingRecorder;
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
 * Local routing consistency (Liang et al. 2025, "Not All Models Suit Expert Offloading"): over
 * consecutive segments of m tokens, SRP — the share of routed (token, expert) choices covered by
 * the segment's k most used experts (1: the segment could run on k experts) — and SCH — the hit
 * rate of an LRU cache of C experts per layer. Plus cross-prompt overlap: routing of a question
 * asked again after another one, against routing of unrelated questions.
 */
public final class Consistency implements Study {
    @Override public String name() { return "consistency"; }

    @Override public String description() { return "local routing consistency (SRP, SCH) per layer and segment length; repeated vs unrelated questions"; }

    @Override
    public StudyOutput run(StudyContext ctx) {
        ModelConfig config = ctx.model().file().config();
        int k = config.moe().expertsPerToken();
        List<String> texts = Calibration.texts(ctx, ctx.option("texts", 64));
        int[] lengths = {1, 2, 4, 8, 16, 32, 64};
        int[] caches = {k, 2 * k, 4 * k};
        Evaluator ev = ctx.evaluator();
        StudyOutput out = new StudyOutput(name(), ctx.model().file().path(), ctx.data());
        out.parameter("segment_lengths", lengths).parameter("cache_sizes", caches);
        // one long routed sequence: the texts one after another
        StringBuilder joined = new StringBuilder();
        for (String t : texts) joined.append(t).append('\n');
        int[] ids = ctx.model().encodePrompt(joined.toString());
        int maxTokens = Math.min(ids.length, ctx.option("max_tokens", 2048));
        ids = java.util.Arrays.copyOf(ids, maxTokens);
        List<Integer> moe = new ArrayList<>();
        for (int l = 0; l < config.layerCount(); l++) if (config.isMoeLayer(l)) moe.add(l);
        List<RoutingRecorder.TokenRouting> routing;
        try (Progress progress = new Progress(name(), 3, "steps")) {
            routing = ev.routing(ids, null);
            progress.update(1);
            double[][] srp = new double[moe.size()][lengths.length];
            double[][] sch = new double[moe.size()][caches.length];
            List<Map<String, Object>> rows = new ArrayList<>();
            for (int i = 0; i < moe.size(); i++) {
                int l = moe.get(i);
                for (int m = 0; m < lengths.length; m++) srp[i][m] = segmentRoutingBest(routing, l, lengths[m], k);
                for (int c = 0; c < caches.length; c++) sch[i][c] = cacheHitRate(routing, l, caches[c]);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("layer", l);
                for (int m = 0; m < lengths.length; m++) row.put("srp_" + lengths[m], srp[i][m]);
                for (int c = 0; c < caches.length; c++) row.put("sch_" + caches[c], sch[i][c]);
                rows.add(row);
                out.value("layer_" + l + ".srp_16", srp[i][4]).value("layer_" + l + ".sch_" + caches[1], sch[i][1]);
            }
            out.table("layers", rows);
            progress.update(2);

            // repeated vs unrelated questions: expert-usage overlap of a question's own tokens
            List<String> questions = Calibration.half(texts, 0);
            questions = questions.subList(0, Math.min(24, questions.size()));
            double[] repeated = new double[questions.size() - 1], unrelated = new double[questions.size() - 1];
            for (int q = 0; q + 1 < questions.size(); q++) {
                int[] alone = ctx.model().encodePrompt(questions.get(q));
                int[] other = ctx.model().encodePrompt(questions.get(q + 1));
                int[] both = ctx.model().encodePrompt(questions.get(q + 1) + "\n" + questions.get(q));
                var a = usage(ev.routing(alone, null), 0, alone.length, moe, config);
                var b = usage(ev.routing(both, null), both.length - alone.length, both.length, moe, config);
                var c = usage(ev.routing(other, null), 0, other.length, moe, config);
                repeated[q] = overlap(a, b);
                unrelated[q] = overlap(a, c);
            }
            Figure rep = Stats.meanWithInterval(repeated, ctx.seed()), unr = Stats.meanWithInterval(unrelated, ctx.seed());
            out.figure("cross_prompt.repeated_overlap", rep).control("cross_prompt.unrelated_overlap", unr);
            progress.update(3);
            out.write(ctx.output("summary.json"));

            Html html = new Html("Routing consistency — " + ctx.model().file().path().getFileName());
            html.paragraph(String.format("%d tokens of calibration text. SRP(m): the share of a segment's routed choices covered by its %d most used "
                    + "experts; SCH(C): LRU cache hit rate with C experts per layer. Repeated questions (asked again after another one) overlap in "
                    + "expert usage by %s; unrelated questions by %s.", ids.length, k, rep, unr));
            double[] x = java.util.Arrays.stream(lengths).asDoubleStream().toArray();
            List<Svg.Series> series = new ArrayList<>();
            for (int i = 0; i < moe.size(); i++) series.add(new Svg.Series("layer " + moe.get(i), srp[i], null, null));
            html.figure(Svg.lineChart("Segment routing best performance", "segment length m (tokens)", "SRP", x, series), "");
            String[] layerNames = moe.stream().map(String::valueOf).toArray(String[]::new);
            String[] cacheNames = java.util.Arrays.stream(caches).mapToObj(c -> "C=" + c).toArray(String[]::new);
            html.figure(Svg.heatmap("Segment cache hit rate", "layer", "cache size", layerNames, cacheNames, sch), "");
            html.details("summary.json", out.json().toPrettyString());
            html.write(ctx.output("report.html"));
        }
        return out;
    }

    static double segmentRoutingBest(List<RoutingRecorder.TokenRouting> routing, int layer, int m, int k) {
        double covered = 0, total = 0;
        for (int start = 0; start + m <= routing.size(); start += m) {
            Map<Integer, Integer> counts = new HashMap<>();
            int all = 0;
            for (int t = start; t < start + m; t++) {
                for (int e : routing.get(t).experts()[layer]) {
                    counts.merge(e, 1, Integer::sum);
                    all++;
                }
            }
            List<Integer> sorted = counts.values().stream().sorted(java.util.Comparator.reverseOrder()).toList();
            for (int i = 0; i < Math.min(k, sorted.size()); i++) covered += sorted.get(i);
            total += all;
        }
        return total == 0 ? Double.NaN : covered / total;
    }

    static double cacheHitRate(List<RoutingRecorder.TokenRouting> routing, int layer, int capacity) {
        LinkedHashSet<Integer> cache = new LinkedHashSet<>();
        long hits = 0, requests = 0;
        for (var t : routing) {
            for (int e : t.experts()[layer]) {
                requests++;
                if (cache.remove(e)) hits++;
                cache.add(e); // most recently used last
                if (cache.size() > capacity) cache.remove(cache.iterator().next());
            }
        }
        return requests == 0 ? Double.NaN : (double) hits / requests;
    }

    /** Normalised expert-usage vector over tokens [from, to), all MoE layers concatenated. */
    static double[] usage(List<RoutingRecorder.TokenRouting> routing, int from, int to, List<Integer> layers, ModelConfig config) {
        int e = config.moe().experts();
        double[] u = new double[layers.size() * e];
        for (int t = from; t < to; t++) {
            for (int i = 0; i < layers.size(); i++) for (int x : routing.get(t).experts()[layers.get(i)]) u[i * e + x]++;
        }
        double s = 0;
        for (double v : u) s += v;
        for (int i = 0; i < u.length; i++) u[i] /= s;
        return u;
    }

    /** Σ min(a, b): 1 for identical usage, 0 for disjoint. */
    static double overlap(double[] a, double[] b) {
        double o = 0;
        for (int i = 0; i < a.length; i++) o += Math.min(a[i], b[i]);
        return o;
    }
}
