package org.moescope.study.studies;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.probe.profile.Profile;
import org.moescope.probe.vector.SteeringVectors;
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
 * Attribute ablation (Belrose et al. 2023 "LEACE"-style projection removal; Arditi et al. 2024):
 * a gender direction from contrastive contexts (the same sentences with female and male words,
 * none of them about occupations), removed from the residual stream (h ← h − (h·u)u) at chosen
 * layers; per occupation, the share of answers whose first pronoun is female, before and after,
 * for stereotyped and neutral jobs; fluency (perplexity) as the side effect.
 */
public final class Debias implements Study {
    /**
     * Contrast pairs: requests about people whose gender is given by the word itself, never by an
     * occupation. The direction is read where the answer's first pronoun is decided: the last prompt
     * token, in the chat format the model answers in.
     */
    static final String[][] PAIRS = {
            {"Tell me about the woman.", "Tell me about the man."}, {"Tell me about my sister.", "Tell me about my brother."},
            {"Tell me about the girl.", "Tell me about the boy."}, {"Tell me about the queen.", "Tell me about the king."},
            {"Tell me about my mother.", "Tell me about my father."}, {"Tell me about the lady.", "Tell me about the gentleman."},
            {"Tell me about my aunt.", "Tell me about my uncle."}, {"Tell me about the bride.", "Tell me about the groom."},
            {"Tell me about my daughter.", "Tell me about my son."}, {"Tell me about my niece.", "Tell me about my nephew."},
            {"Tell me about the princess.", "Tell me about the prince."}, {"Tell me about my grandmother.", "Tell me about my grandfather."}};

    @Override public String name() { return "debias"; }

    @Override public String description() { return "gender ablated (pronoun readout directions, a contrast direction, or experts): pronoun ratios per occupation, perplexity"; }

    @Override
    public StudyOutput run(StudyContext ctx) {
        List<JsonNode> rows = Data.read(ctx.data(), "prompt", "occupation", "stereotype");
        var config = ctx.model().file().config();
        String layerSpec = ctx.option("layers", "all");
        List<Integer> layers = new ArrayList<>();
        if (layerSpec.equals("all")) for (int l = 0; l < config.layerCount(); l++) layers.add(l);
        else for (String s : layerSpec.split(",")) layers.add(Integer.parseInt(s.trim()));
        int tokens = ctx.option("tokens", 24);
        Evaluator ev = ctx.evaluator();
        StudyOutput out = new StudyOutput(name(), ctx.model().file().path(), ctx.data());
        out.parameter("layers", layers).parameter("tokens", tokens).parameter("contrast_pairs", PAIRS.length);
        try (Progress progress = new Progress(name(), 2L * rows.size() * ctx.option("samples", 10) + 2L * PAIRS.length + 10, "runs")) {
            long[] done = {0};
            List<int[]> female = new ArrayList<>(), male = new ArrayList<>();
            for (String[] p : PAIRS) {
                female.add(ctx.model().encodeUserMessage(null, p[0]));
                male.add(ctx.model().encodeUserMessage(null, p[1]));
            }
            String method = ctx.option("method", "unembedding");
            if (!List.of("direction", "experts", "unembedding").contains(method)) {
                throw new IllegalArgumentException("method must be direction, experts or unembedding, not " + method);
            }
            out.parameter("method", method);
            Profile ablate;
            if (method.equals("direction")) {
                VectorMaker.Reduction reduction = ctx.option("reduction", "last").equals("mean") ? VectorMaker.Reduction.MEAN : VectorMaker.Reduction.LAST;
                out.parameter("reduction", reduction.name().toLowerCase());
                Map<Integer, float[]> vectors = VectorMaker.make(ctx.model().transformer(), female, male, layers, VectorMaker.Method.DIFFMEAN, reduction);
                SteeringVectors.writeSafetensors(ctx.output("gender.safetensors"), vectors, config.layerCount());
                ablate = Profile.parse("{\"name\": \"ablate-gender\", \"steer\": [{\"layers\": " + layers + ", \"point\": \"resid_post\", "
                        + "\"mode\": \"ablate\", \"vector\": \"gender.safetensors#vectors\"}]}", ctx.out());
            } else if (method.equals("unembedding")) {
                // the directions along which the final residual stream separates female from male pronoun logits:
                // logit(f) − logit(m) = ((W_f − W_m) ⊙ g) · h / rms(h) with g the final norm's weight, so removing
                // (W_f − W_m) ⊙ g from the last layer's output makes the pair's logits equal. From the weights alone.
                List<float[]> directions = pronounDirections(ctx.model());
                int last = config.layerCount() - 1;
                StringBuilder steer = new StringBuilder();
                for (int i = 0; i < directions.size(); i++) {
                    SteeringVectors.writeSafetensors(ctx.output("pronoun-" + i + ".safetensors"), Map.of(last, directions.get(i)), config.layerCount());
                    if (i > 0) steer.append(", ");
                    steer.append("{\"layers\": [").append(last).append("], \"point\": \"resid_post\", \"mode\": \"ablate\", \"vector\": \"pronoun-")
                            .append(i).append(".safetensors#vectors\"}");
                }
                out.parameter("pronoun_directions", directions.size());
                ablate = Profile.parse("{\"name\": \"ablate-pronoun-readout\", \"steer\": [" + steer + "]}", ctx.out());
            } else {
                // experts: the k experts (in the chosen layers) whose selection counts differ most between the female and the
                // male contrast prompts, summed over every prompt token, are disabled
                int k = ctx.option("k", 4);
                out.parameter("k", k);
                long[][] difference = new long[config.layerCount()][config.isMoe() ? config.moe().experts() : 0];
                for (int i = 0; i < PAIRS.length; i++) {
                    count(ctx.evaluator().promptRouting(PAIRS[i][0], true, null), difference, 1);
                    count(ctx.evaluator().promptRouting(PAIRS[i][1], true, null), difference, -1);
                }
                List<org.moescope.study.Profiles.LayerExpert> ranked = new ArrayList<>();
                for (int l : layers) for (int e = 0; e < difference[l].length; e++) ranked.add(new org.moescope.study.Profiles.LayerExpert(l, e));
                ranked.sort(java.util.Comparator.comparingLong((org.moescope.study.Profiles.LayerExpert le) -> -Math.abs(difference[le.layer()][le.expert()])));
                List<Map<String, Object>> selective = new ArrayList<>();
                for (var le : ranked.subList(0, Math.min(8, ranked.size()))) {
                    selective.add(Map.of("layer", le.layer(), "expert", le.expert(), "female_minus_male", difference[le.layer()][le.expert()]));
                }
                out.table("gender_selective_experts", selective);
                ablate = org.moescope.study.Profiles.experts("disable-gender-experts", "disable", ranked.subList(0, Math.min(k, ranked.size())));
            }
            done[0] += 2L * PAIRS.length;
            progress.update(done[0]);
            out.profile("ablation", ablate.json());

            // each occupation is asked `samples` times at temperature 1 (seeded): ratios, not single greedy answers
            int samples = ctx.option("samples", 10);
            out.parameter("samples", samples).parameter("temperature", 1.0);
            List<String> prompts = new ArrayList<>();
            List<JsonNode> sampleRows = new ArrayList<>();
            for (JsonNode r : rows) for (int s = 0; s < samples; s++) {
                prompts.add(r.get("prompt").asText());
                sampleRows.add(r);
            }
            var sampling = new org.moescope.runtime.SamplingOptions(1.0f, 0, 1, 0, 1, 64, ctx.seed() * 1000);
            var before = ev.generate(prompts, null, tokens, true, false, i -> progress.update(++done[0]), sampling);
            var after = ev.generate(prompts, ablate, tokens, true, false, i -> progress.update(++done[0]), sampling);
            Map<String, List<Integer>> groups = new LinkedHashMap<>();
            for (int i = 0; i < sampleRows.size(); i++) groups.computeIfAbsent(sampleRows.get(i).get("stereotype").asText(), k -> new ArrayList<>()).add(i);
            List<Map<String, Object>> perOccupation = new ArrayList<>();
            List<Svg.Bar> bars = new ArrayList<>();
            for (var g : groups.entrySet()) {
                Figure fb = femaleShare(before, g.getValue(), ctx.seed()), fa = femaleShare(after, g.getValue(), ctx.seed());
                out.figure(g.getKey() + "_jobs.female_share_before", fb).figure(g.getKey() + "_jobs.female_share_after", fa);
                bars.add(new Svg.Bar(g.getKey() + " jobs, before", fb.value(), fb.low(), fb.high()));
                bars.add(new Svg.Bar(g.getKey() + " jobs, after", fa.value(), fa.low(), fa.high()));
            }
            for (int o = 0; o < rows.size(); o++) {
                List<Integer> idx = new ArrayList<>();
                for (int s = 0; s < samples; s++) idx.add(o * samples + s);
                perOccupation.add(Map.of("occupation", rows.get(o).get("occupation").asText(), "stereotype", rows.get(o).get("stereotype").asText(),
                        "female_share_before", femaleShare(before, idx, ctx.seed()).value(), "female_share_after", femaleShare(after, idx, ctx.seed()).value(),
                        "answer_after", after.get(o * samples).text()));
            }
            out.table("occupations", perOccupation);
            // fluency: perplexity of the unsteered answers under both models
            int fluency = Math.min(before.size(), 48);
            double[] nllBase = new double[fluency], nllAblated = new double[fluency];
            for (int i = 0; i < fluency; i++) {
                nllBase[i] = ev.meanNll(before.get(i).text(), null);
                nllAblated[i] = ev.meanNll(before.get(i).text(), ablate);
            }
            Figure pplBase = exp(Stats.meanWithInterval(nllBase, ctx.seed())), pplAblated = exp(Stats.meanWithInterval(nllAblated, ctx.seed()));
            out.figure("perplexity_before", pplBase).figure("perplexity_after", pplAblated);
            done[0] += 10;
            progress.update(done[0]);
            out.write(ctx.output("summary.json"));

            Html html = new Html("Gender-direction ablation — " + ctx.model().file().path().getFileName());
            String intervention = method.equals("direction") ? "removing the gender direction at layers " + layers
                    : method.equals("unembedding") ? "removing, from the last layer's output, the directions that separate female from male pronoun logits"
                    : "disabling the experts whose routing differs most between female and male contrast prompts (" + ablate.json() + ")";
            html.paragraph("Share of answers whose first pronoun is female (she/her), per group of occupations, before and after "
                    + intervention + ". Perplexity of the original answers: " + pplBase + " before, " + pplAblated + " after.");
            html.figure(Svg.barChart("Female pronoun share by stereotype group", "share", bars), "95% bootstrap intervals over occupations.");
            List<List<String>> table = new ArrayList<>();
            for (var r : perOccupation) table.add(List.of(r.get("occupation").toString(), r.get("stereotype").toString(),
                    String.format("%.2f", (double) r.get("female_share_before")), String.format("%.2f", (double) r.get("female_share_after")),
                    r.get("answer_after").toString()));
            html.table(List.of("occupation", "stereotype", "female share before", "after", "an answer after ablation"), table);
            html.details("summary.json", out.json().toPrettyString());
            html.write(ctx.output("report.html"));
        }
        return out;
    }

    /** Female/male pronoun pairs whose forms are one token each in this vocabulary. */
    public static final String[][] PRONOUNS = {{"She", "He"}, {" she", " he"}, {"Her", "His"}, {" her", " his"}, {" her", " him"}, {" herself", " himself"}};

    /** (W_f − W_m) ⊙ g for each single-token pronoun pair, made orthonormal (Gram–Schmidt) so that ablating them in turn removes all. */
    static List<float[]> pronounDirections(org.moescope.runtime.TextModel model) {
        var weights = model.file().weights();
        int hidden = model.file().config().hiddenSize();
        float[] gain = new float[hidden];
        org.moescope.tensor.Kernel.of(weights.outputNorm().type()).dequantize(weights.outputNorm().data(), 0, gain, 0, hidden);
        var output = org.moescope.tensor.Matrix.of(weights.output() != null ? weights.output() : weights.tokenEmbedding());
        List<float[]> basis = new ArrayList<>();
        float[] female = new float[hidden], male = new float[hidden];
        for (String[] pair : PRONOUNS) {
            int[] f = model.tokenizer().encode(pair[0], false, false), m = model.tokenizer().encode(pair[1], false, false);
            if (f.length != 1 || m.length != 1) continue;
            output.dequantizeRow(f[0], female, 0);
            output.dequantizeRow(m[0], male, 0);
            double[] v = new double[hidden];
            for (int i = 0; i < hidden; i++) v[i] = (double) (female[i] - male[i]) * gain[i];
            for (float[] b : basis) {
                double dot = 0;
                for (int i = 0; i < hidden; i++) dot += v[i] * b[i];
                for (int i = 0; i < hidden; i++) v[i] -= dot * b[i];
            }
            double norm = 0;
            for (double x : v) norm += x * x;
            norm = Math.sqrt(norm);
            if (norm < 1e-6) continue;
            float[] unit = new float[hidden];
            for (int i = 0; i < hidden; i++) unit[i] = (float) (v[i] / norm);
            basis.add(unit);
        }
        if (basis.isEmpty()) throw new IllegalArgumentException("no female/male pronoun pair is a single token in this vocabulary");
        return basis;
    }

    private static void count(List<org.moescope.runtime.RoutingRecorder.TokenRouting> routing, long[][] counts, int sign) {
        for (var token : routing) {
            for (int l = 0; l < token.experts().length; l++) {
                if (token.experts()[l] == null) continue;
                for (int e : token.experts()[l]) counts[l][e] += sign;
            }
        }
    }

    private static Figure femaleShare(List<Evaluator.Generation> gens, List<Integer> indices, long seed) {
        List<Boolean> female = new ArrayList<>();
        for (int i : indices) {
            String p = Evaluator.firstPronoun(gens.get(i).text());
            if (p != null) female.add(p.equals("female"));
        }
        boolean[] b = new boolean[female.size()];
        for (int i = 0; i < b.length; i++) b[i] = female.get(i);
        return Stats.proportion(b, seed);
    }

    static Figure exp(Figure nll) {
        return new Figure(Math.exp(nll.value()), Math.exp(nll.low()), Math.exp(nll.high()), nll.n(), "exp(mean token NLL), 95% percentile bootstrap");
    }
}
