package org.moescope.study.studies;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.runtime.RoutingRecorder;
import org.moescope.study.Data;
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
 * Semantic specialisation (Olson et al., "Semantic Specialization in MoE Appears with Scale"):
 * for each polysemous word, the experts chosen at the word's first token in each example
 * sentence; per layer, the mean overlap (Jaccard and weighted) of same-sense pairs against
 * different-sense pairs, the difference with a permutation p-value, and sense classification by
 * the nearest neighbour in routing (leave one out) against the majority sense.
 */
public final class WordSense implements Study {
    @Override public String name() { return "wsd"; }

    @Override public String description() { return "word-sense specialisation of routing: same- vs different-sense overlap per layer, sense classification"; }

    private record Occurrence(String word, String sense, int[][] experts, float[][] weights) {}

    /** The sentences whose routing the study needs (plain prompts), for a collection run elsewhere. */
    public static List<String> collectionPrompts(Path data, java.util.Map<String, String> options) {
        List<String> out = new ArrayList<>();
        for (List<JsonNode> rows : chosenWords(Data.read(data, "word", "sense", "sentence"), optionInt(options, "words", 200)).values()) {
            for (JsonNode r : rows) out.add(r.get("sentence").asText());
        }
        return out;
    }

    private static int optionInt(java.util.Map<String, String> options, String name, int fallback) {
        return options.containsKey(name) ? Integer.parseInt(options.get(name)) : fallback;
    }

    /** Words with at least two senses and three sentences, in file order, up to {@code maxWords}. */
    private static Map<String, List<JsonNode>> chosenWords(List<JsonNode> rows, int maxWords) {
        Map<String, List<JsonNode>> byWord = new LinkedHashMap<>();
        for (JsonNode r : rows) byWord.computeIfAbsent(r.get("word").asText(), k -> new ArrayList<>()).add(r);
        byWord.entrySet().removeIf(e -> e.getValue().size() < 3 || e.getValue().stream().map(r -> r.get("sense").asText()).distinct().count() < 2);
        Map<String, List<JsonNode>> chosen = new LinkedHashMap<>();
        for (var e : byWord.entrySet()) {
            if (chosen.size() >= maxWords) break;
            chosen.put(e.getKey(), e.getValue());
        }
        return chosen;
    }

    @Override
    public StudyOutput run(StudyContext ctx) {
        List<JsonNode> rows = Data.read(ctx.data(), "word", "sense", "sentence");
        int maxWords = ctx.option("words", 200);
        var config = ctx.model().file().config();
        Map<String, List<JsonNode>> byWord = chosenWords(rows, maxWords);
        List<String> words = new ArrayList<>(byWord.keySet());
        RoutingSource source = ctx.routing();
        StudyOutput out = new StudyOutput(name(), ctx.model().file().path(), ctx.data());
        out.parameter("words", words.size()).parameter("permutations", 999);
        int layers = config.layerCount();
        List<Occurrence> occurrences = new ArrayList<>();
        int skipped = 0;
        long total = words.stream().mapToLong(w -> byWord.get(w).size()).sum();
        try (Progress progress = new Progress(name(), total, "sentences")) {
            long done = 0;
            for (String w : words) {
                for (JsonNode r : byWord.get(w)) {
                    progress.update(++done);
                    String sentence = r.get("sentence").asText();
                    int at = wordPosition(ctx, sentence, w);
                    if (at < 0) {
                        skipped++;
                        continue;
                    }
                    List<RoutingRecorder.TokenRouting> routing = source.promptRouting(sentence, false);
                    var t = routing.get(at);
                    occurrences.add(new Occurrence(w, r.get("sense").asText(), t.experts(), t.weights()));
                }
            }
        }
        // pairs within each word
        double[][] sameJ = new double[layers][], diffJ = new double[layers][], sameW = new double[layers][], diffW = new double[layers][];
        Figure[] differenceJ = new Figure[layers];
        double[] pValues = new double[layers], accuracy = new double[layers];
        Map<String, List<Occurrence>> grouped = new HashMap<>();
        for (Occurrence o : occurrences) grouped.computeIfAbsent(o.word(), k -> new ArrayList<>()).add(o);
        double majority = 0;
        int classified = 0;
        for (List<Occurrence> os : grouped.values()) {
            Map<String, Integer> counts = new HashMap<>();
            for (Occurrence o : os) counts.merge(o.sense(), 1, Integer::sum);
            for (Occurrence o : os) {
                if (counts.get(o.sense()) < 2) continue; // no other sentence of this sense: nothing to recognise it by
                // majority sense among the other sentences of the word (leave one out)
                Map<String, Integer> others = new HashMap<>(counts);
                others.merge(o.sense(), -1, Integer::sum);
                String best = others.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
                if (best.equals(o.sense())) majority++;
                classified++;
            }
        }
        List<Map<String, Object>> perLayer = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            if (!config.isMoeLayer(l)) continue;
            List<Double> sj = new ArrayList<>(), dj = new ArrayList<>(), sw = new ArrayList<>(), dw = new ArrayList<>();
            int correct = 0, n = 0;
            for (List<Occurrence> os : grouped.values()) {
                for (int i = 0; i < os.size(); i++) {
                    double bestOverlap = -1;
                    String bestSense = null;
                    for (int j = 0; j < os.size(); j++) {
                        if (i == j) continue;
                        Occurrence a = os.get(i), b = os.get(j);
                        double jac = Stats.jaccard(a.experts()[l], b.experts()[l]);
                        double wo = Stats.weightedOverlap(a.experts()[l], a.weights()[l], b.experts()[l], b.weights()[l]);
                        if (j > i) {
                            (a.sense().equals(b.sense()) ? sj : dj).add(jac);
                            (a.sense().equals(b.sense()) ? sw : dw).add(wo);
                        }
                        if (wo > bestOverlap) {
                            bestOverlap = wo;
                            bestSense = b.sense();
                        }
                    }
                    boolean classifiable = false;
                    for (int j = 0; j < os.size(); j++) classifiable |= j != i && os.get(j).sense().equals(os.get(i).sense());
                    if (bestSense != null && classifiable) {
                        n++;
                        if (bestSense.equals(os.get(i).sense())) correct++;
                    }
                }
            }
            sameJ[l] = sj.stream().mapToDouble(Double::doubleValue).toArray();
            diffJ[l] = dj.stream().mapToDouble(Double::doubleValue).toArray();
            sameW[l] = sw.stream().mapToDouble(Double::doubleValue).toArray();
            diffW[l] = dw.stream().mapToDouble(Double::doubleValue).toArray();
            differenceJ[l] = Stats.difference(sameJ[l], diffJ[l], ctx.seed() + l);
            pValues[l] = Stats.permutationTest(sameJ[l], diffJ[l], 999, ctx.seed() + l);
            accuracy[l] = n == 0 ? Double.NaN : (double) correct / n;
            double[] acc = Stats.wilson(correct, n);
            out.figure("layer_" + l + ".jaccard_same_minus_different", differenceJ[l])
                    .figure("layer_" + l + ".weighted_same_minus_different", Stats.difference(sameW[l], diffW[l], ctx.seed() + l))
                    .figure("layer_" + l + ".sense_accuracy", new Figure(accuracy[l], acc[0], acc[1], n, "nearest neighbour by weighted overlap, Wilson interval"));
            perLayer.add(Map.of("layer", l, "jaccard_same", Stats.mean(sameJ[l]), "jaccard_different", Stats.mean(diffJ[l]),
                    "weighted_same", Stats.mean(sameW[l]), "weighted_different", Stats.mean(diffW[l]), "p_value", pValues[l], "accuracy", accuracy[l]));
        }
        double[] mc = Stats.wilson((long) majority, classified);
        out.control("majority_sense_accuracy", new Figure(majority / classified, mc[0], mc[1], classified, "leave-one-out majority sense, Wilson interval"));
        out.value("occurrences", occurrences.size()).value("sentences_without_the_word", skipped).table("layers", perLayer);
        out.write(ctx.output("summary.json"));

        Html html = new Html("Word-sense specialisation — " + ctx.model().file().path().getFileName());
        html.paragraph(String.format("%d occurrences of %d polysemous words. Per layer: mean top-k overlap of the experts chosen at the word, "
                + "same-sense pairs against different-sense pairs (permutation test, 999 permutations), and leave-one-out sense classification "
                + "by the most similar routing against the majority sense (%.3f).", occurrences.size(), grouped.size(), majority / classified));
        double majorityShare = majority / classified;
        List<Integer> moe = new ArrayList<>();
        for (int l = 0; l < layers; l++) if (config.isMoeLayer(l)) moe.add(l);
        double[] x = moe.stream().mapToDouble(Integer::doubleValue).toArray();
        html.figure(Svg.lineChart("Routing overlap at the word, per layer", "layer", "mean Jaccard overlap", x, List.of(
                meanSeries("same sense", moe, sameJ, ctx.seed()), meanSeries("different sense", moe, diffJ, ctx.seed()))), "95% bootstrap bands.");
        html.figure(Svg.lineChart("Sense classification from routing", "layer", "accuracy", x, List.of(
                new Svg.Series("nearest routing", moe.stream().mapToDouble(l -> accuracy[l]).toArray(), null, null),
                new Svg.Series("majority sense", moe.stream().mapToDouble(l -> majorityShare).toArray(), null, null))), "");
        List<List<String>> table = new ArrayList<>();
        for (var r : perLayer) table.add(List.of(r.get("layer").toString(), String.format("%.3f", (double) r.get("jaccard_same")),
                String.format("%.3f", (double) r.get("jaccard_different")), String.format("%.4f", (double) r.get("p_value")),
                String.format("%.3f", (double) r.get("accuracy"))));
        html.table(List.of("layer", "Jaccard same", "Jaccard different", "p (permutation)", "sense accuracy"), table);
        html.details("summary.json", out.json().toPrettyString());
        html.write(ctx.output("report.html"));
        return out;
    }

    private static Svg.Series meanSeries(String name, List<Integer> layers, double[][] values, long seed) {
        double[] y = new double[layers.size()], lo = new double[layers.size()], hi = new double[layers.size()];
        for (int i = 0; i < layers.size(); i++) {
            Figure f = Stats.meanWithInterval(values[layers.get(i)], seed);
            y[i] = f.value();
            lo[i] = f.low();
            hi[i] = f.high();
        }
        return new Svg.Series(name, y, lo, hi);
    }

    /** The index of the first token of {@code word} in the encoded sentence, or -1 when it is not there as a word. */
    static int wordPosition(StudyContext ctx, String sentence, String word) {
        var m = java.util.regex.Pattern.compile("\\b" + java.util.regex.Pattern.quote(word) + "\\b", java.util.regex.Pattern.CASE_INSENSITIVE).matcher(sentence);
        if (!m.find()) return -1;
        int[] prefix = ctx.model().encodePrompt(sentence.substring(0, m.start()));
        int[] whole = ctx.model().encodePrompt(sentence);
        // the first token whose text reaches into the word: tokens of the prefix, minus a shared trailing space merged into the word
        int k = 0;
        while (k < prefix.length && k < whole.length && prefix[k] == whole[k]) k++;
        return k < whole.length ? k : -1;
    }
}
