package org.moescope.study.studies;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.format.safetensors.SafetensorsWriter;
import org.moescope.probe.profile.Profile;
import org.moescope.probe.vector.VectorMaker;
import org.moescope.study.Data;
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
 * A creativity direction from contrast prompts ("boring" vs "creative" requests): diffmean of the
 * residual stream on half of the pairs; a text's creativity score is its mean residual projected
 * on the direction; its AUROC is measured on the held-out pairs (the prompts, and the model's own
 * answers to them); then steering (+α·v at that layer) of neutral requests, measured by distinct-n,
 * type-token ratio and perplexity under the unsteered model.
 */
public final class VectorCreativity implements Study {
    @Override public String name() { return "vector-creativity"; }

    @Override public String description() { return "a creativity direction: scoring (AUROC on held-out pairs) and steering (distinct-n, perplexity)"; }

    @Override
    public StudyOutput run(StudyContext ctx) {
        List<JsonNode> rows = Data.read(ctx.data(), "boring", "creative", "topic");
        var config = ctx.model().file().config();
        int layer = ctx.option("layer", config.layerCount() / 2);
        int tokens = ctx.option("tokens", 32);
        double[] alphas = java.util.Arrays.stream(ctx.option("alpha", "0,0.5,1,2,4").split(",")).mapToDouble(Double::parseDouble).toArray();
        int half = rows.size() / 2;
        List<JsonNode> train = rows.subList(0, half), held = rows.subList(half, rows.size());
        Evaluator ev = ctx.evaluator();
        var t = ctx.model().transformer();
        StudyOutput out = new StudyOutput(name(), ctx.model().file().path(), ctx.data());
        out.parameter("layer", layer).parameter("tokens", tokens).parameter("alpha", alphas).parameter("train_pairs", train.size())
                .parameter("held_out_pairs", held.size());
        try (Progress progress = new Progress(name(), 4L * held.size() + (long) alphas.length * held.size() + 2L * train.size(), "runs")) {
            long[] done = {0};
            List<int[]> creative = new ArrayList<>(), boring = new ArrayList<>();
            for (JsonNode r : train) {
                creative.add(ctx.model().encodeUserMessage(null, r.get("creative").asText()));
                boring.add(ctx.model().encodeUserMessage(null, r.get("boring").asText()));
            }
            float[] v = VectorMaker.make(t, creative, boring, List.of(layer), VectorMaker.Method.DIFFMEAN, VectorMaker.Reduction.MEAN).get(layer);
            done[0] += 2L * train.size();
            progress.update(done[0]);
            float[] unit = unit(v);
            new SafetensorsWriter().add("creativity", new long[] {v.length}, v).write(ctx.output("creativity.safetensors"));

            // scoring: held-out prompts, and the model's answers to them
            double[] scoreCreativePrompts = new double[held.size()], scoreBoringPrompts = new double[held.size()];
            double[] scoreCreativeAnswers = new double[held.size()], scoreBoringAnswers = new double[held.size()];
            List<String> cPrompts = held.stream().map(r -> r.get("creative").asText()).toList();
            List<String> bPrompts = held.stream().map(r -> r.get("boring").asText()).toList();
            var cAnswers = ev.generate(cPrompts, null, tokens, true, false, i -> progress.update(++done[0]));
            var bAnswers = ev.generate(bPrompts, null, tokens, true, false, i -> progress.update(++done[0]));
            for (int i = 0; i < held.size(); i++) {
                scoreCreativePrompts[i] = score(ctx, ctx.model().encodeUserMessage(null, cPrompts.get(i)), layer, unit);
                scoreBoringPrompts[i] = score(ctx, ctx.model().encodeUserMessage(null, bPrompts.get(i)), layer, unit);
                scoreCreativeAnswers[i] = score(ctx, ctx.model().encodePrompt(cAnswers.get(i).text()), layer, unit);
                scoreBoringAnswers[i] = score(ctx, ctx.model().encodePrompt(bAnswers.get(i).text()), layer, unit);
                done[0] += 2;
                progress.update(done[0]);
            }
            Figure aurocPrompts = Stats.aurocWithInterval(scoreCreativePrompts, scoreBoringPrompts, ctx.seed());
            Figure aurocAnswers = Stats.aurocWithInterval(scoreCreativeAnswers, scoreBoringAnswers, ctx.seed());
            out.figure("auroc.held_out_prompts", aurocPrompts).figure("auroc.answers", aurocAnswers);

            // steering neutral requests
            List<String> neutral = held.stream().map(r -> "Write a sentence about " + r.get("topic").asText() + ".").toList();
            List<Map<String, Object>> sweep = new ArrayList<>();
            Figure[] d1 = new Figure[alphas.length], d2 = new Figure[alphas.length], ppl = new Figure[alphas.length], sc = new Figure[alphas.length];
            for (int a = 0; a < alphas.length; a++) {
                Profile p = Profile.parse("{\"name\": \"creativity-" + alphas[a] + "\", \"steer\": [{\"layers\": [" + layer
                        + "], \"point\": \"resid_post\", \"mode\": \"add\", \"vector\": \"creativity.safetensors#creativity\", \"scale\": " + alphas[a] + "}]}", ctx.out());
                var gens = ev.generate(neutral, alphas[a] == 0 ? null : p, tokens, true, false, null);
                done[0] += neutral.size();
                progress.update(done[0]);
                List<List<String>> words = gens.stream().map(g -> Evaluator.words(g.text())).toList();
                d1[a] = distinctWithInterval(words, 1, ctx.seed());
                d2[a] = distinctWithInterval(words, 2, ctx.seed());
                double[] nll = new double[gens.size()], scores = new double[gens.size()];
                for (int i = 0; i < gens.size(); i++) {
                    nll[i] = gens.get(i).text().isBlank() ? Double.NaN : ev.meanNll(gens.get(i).text(), null);
                    scores[i] = score(ctx, ctx.model().encodePrompt(gens.get(i).text()), layer, unit);
                }
                double[] finite = java.util.Arrays.stream(nll).filter(Double::isFinite).toArray();
                Figure meanNll = Stats.meanWithInterval(finite, ctx.seed());
                ppl[a] = new Figure(Math.exp(meanNll.value()), Math.exp(meanNll.low()), Math.exp(meanNll.high()), meanNll.n(),
                        "exp(mean token NLL) under the unsteered model, 95% percentile bootstrap");
                sc[a] = Stats.meanWithInterval(scores, ctx.seed());
                double ttr = words.stream().flatMap(List::stream).distinct().count() / (double) Math.max(1, words.stream().mapToInt(List::size).sum());
                out.figure("alpha_" + alphas[a] + ".distinct_1", d1[a]).figure("alpha_" + alphas[a] + ".distinct_2", d2[a])
                        .figure("alpha_" + alphas[a] + ".perplexity", ppl[a]).figure("alpha_" + alphas[a] + ".creativity_score", sc[a]);
                sweep.add(Map.of("alpha", alphas[a], "distinct_1", d1[a].value(), "distinct_2", d2[a].value(), "type_token_ratio", ttr,
                        "perplexity", ppl[a].value(), "example", gens.getFirst().text()));
                if (a == alphas.length - 1) out.profile("steer", p.json());
            }
            out.table("steering", sweep);
            out.write(ctx.output("summary.json"));

            Html html = new Html("Creativity vector — " + ctx.model().file().path().getFileName());
            html.paragraph(String.format("Direction: creative minus boring requests, residual after layer %d, %d training pairs. Held-out AUROC "
                    + "of the score: %s on the requests, %s on the model's answers.", layer, train.size(), aurocPrompts, aurocAnswers));
            html.figure(Svg.lineChart("Variety of steered answers", "α (steering scale)", "distinct-n", alphas,
                    List.of(CognitiveExperts.series("distinct-1", d1), CognitiveExperts.series("distinct-2", d2))),
                    "Distinct n-grams over all answers to \"Write a sentence about X.\", 95% bootstrap over answers.");
            html.figure(Svg.lineChart("Fluency of steered answers", "α", "perplexity", alphas, List.of(CognitiveExperts.series("perplexity", ppl))),
                    "Perplexity of the answers under the unsteered model.");
            html.figure(Svg.barChart("Creativity score, held-out prompts", "score", List.of(
                    new Svg.Bar("creative requests", Stats.mean(scoreCreativePrompts), Double.NaN, Double.NaN),
                    new Svg.Bar("boring requests", Stats.mean(scoreBoringPrompts), Double.NaN, Double.NaN),
                    new Svg.Bar("answers to creative", Stats.mean(scoreCreativeAnswers), Double.NaN, Double.NaN),
                    new Svg.Bar("answers to boring", Stats.mean(scoreBoringAnswers), Double.NaN, Double.NaN))), "Mean projection on the direction.");
            List<List<String>> tableRows = new ArrayList<>();
            for (var r : sweep) tableRows.add(List.of(r.get("alpha").toString(), String.format("%.3f", (double) r.get("distinct_2")),
                    String.format("%.3f", (double) r.get("type_token_ratio")), String.format("%.2f", (double) r.get("perplexity")), r.get("example").toString()));
            html.table(List.of("α", "distinct-2", "type-token ratio", "perplexity", "first answer"), tableRows);
            html.details("summary.json", out.json().toPrettyString());
            html.write(ctx.output("report.html"));
        }
        return out;
    }

    static float[] unit(float[] v) {
        double n = 0;
        for (float x : v) n += (double) x * x;
        n = Math.sqrt(n);
        float[] u = new float[v.length];
        for (int i = 0; i < v.length; i++) u[i] = (float) (v[i] / n);
        return u;
    }

    /** Mean residual after {@code layer} over the tokens, projected on {@code unit}. */
    static double score(StudyContext ctx, int[] ids, int layer, float[] unit) {
        if (ids.length == 0) return 0;
        float[] mean = VectorMaker.activations(ctx.model().transformer(), List.of(ids), List.of(layer), VectorMaker.Reduction.MEAN).get(layer).getFirst();
        double s = 0;
        for (int i = 0; i < unit.length; i++) s += mean[i] * unit[i];
        return s;
    }

    static Figure distinctWithInterval(List<List<String>> texts, int n, long seed) {
        double[] ci = Stats.bootstrap(texts.size(), idx -> {
            List<List<String>> sample = new ArrayList<>();
            for (int i : idx) sample.add(texts.get(i));
            return Stats.distinctN(sample, n);
        }, seed);
        return Figure.of(Stats.distinctN(texts, n), ci, texts.size(), "distinct-" + n + ", 95% percentile bootstrap over answers");
    }
}
