package org.moescope.study.stats;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * The statistics the studies share: seeded percentile bootstrap intervals (Efron & Tibshirani
 * 1993), permutation tests (with the add-one p-value of Phipson & Smyth 2010), rank correlation,
 * AUROC, normalised PMI (Bouma 2009), overlap of expert sets, distinct-n (Li et al. 2016), Wilson
 * intervals.
 */
public final class Stats {
    public static final int RESAMPLES = 2000;

    private Stats() {}

    public static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return x.length == 0 ? Double.NaN : s / x.length;
    }

    /** 95% percentile bootstrap interval of {@code statistic} over resampled indices [0, n). */
    public static double[] bootstrap(int n, ToDoubleFunction<int[]> statistic, long seed) {
        if (n == 0) return new double[] {Double.NaN, Double.NaN};
        SplittableRandom r = new SplittableRandom(seed);
        double[] values = new double[RESAMPLES];
        int[] sample = new int[n];
        for (int b = 0; b < RESAMPLES; b++) {
            for (int i = 0; i < n; i++) sample[i] = r.nextInt(n);
            values[b] = statistic.applyAsDouble(sample);
        }
        Arrays.sort(values);
        return new double[] {values[(int) (0.025 * RESAMPLES)], values[(int) Math.ceil(0.975 * RESAMPLES) - 1]};
    }

    /** The mean with a bootstrap interval. */
    public static Figure meanWithInterval(double[] x, long seed) {
        double[] ci = bootstrap(x.length, idx -> {
            double s = 0;
            for (int i : idx) s += x[i];
            return s / idx.length;
        }, seed);
        return Figure.of(mean(x), ci, x.length, "mean, 95% percentile bootstrap");
    }

    /** A proportion of true outcomes with a bootstrap interval. */
    public static Figure proportion(boolean[] outcomes, long seed) {
        double[] x = new double[outcomes.length];
        for (int i = 0; i < x.length; i++) x[i] = outcomes[i] ? 1 : 0;
        Figure f = meanWithInterval(x, seed);
        return new Figure(f.value(), f.low(), f.high(), f.n(), "proportion, 95% percentile bootstrap");
    }

    /** mean(a) − mean(b) for independent groups, each resampled separately. */
    public static Figure difference(double[] a, double[] b, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] values = new double[RESAMPLES];
        for (int k = 0; k < RESAMPLES; k++) {
            double sa = 0, sb = 0;
            for (int i = 0; i < a.length; i++) sa += a[r.nextInt(a.length)];
            for (int i = 0; i < b.length; i++) sb += b[r.nextInt(b.length)];
            values[k] = sa / a.length - sb / b.length;
        }
        Arrays.sort(values);
        return new Figure(mean(a) - mean(b), values[(int) (0.025 * RESAMPLES)], values[(int) Math.ceil(0.975 * RESAMPLES) - 1],
                a.length + b.length, "difference of means, 95% percentile bootstrap");
    }

    /** mean(a_i − b_i) for paired data. */
    public static Figure pairedDifference(double[] a, double[] b, long seed) {
        double[] d = new double[a.length];
        for (int i = 0; i < d.length; i++) d[i] = a[i] - b[i];
        Figure f = meanWithInterval(d, seed);
        return new Figure(f.value(), f.low(), f.high(), f.n(), "paired difference, 95% percentile bootstrap");
    }

    /** Two-sided permutation test of mean(a) − mean(b): p = (b + 1) / (m + 1). */
    public static double permutationTest(double[] a, double[] b, int permutations, long seed) {
        double observed = Math.abs(mean(a) - mean(b));
        double[] all = new double[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        SplittableRandom r = new SplittableRandom(seed);
        int extreme = 0;
        for (int p = 0; p < permutations; p++) {
            for (int i = all.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                double t = all[i];
                all[i] = all[j];
                all[j] = t;
            }
            double sa = 0, sb = 0;
            for (int i = 0; i < a.length; i++) sa += all[i];
            for (int i = a.length; i < all.length; i++) sb += all[i];
            if (Math.abs(sa / a.length - sb / b.length) >= observed - 1e-12) extreme++;
        }
        return (extreme + 1.0) / (permutations + 1.0);
    }

    /** Ranks with ties given their average rank (1-based). */
    static double[] ranks(double[] x) {
        Integer[] order = new Integer[x.length];
        for (int i = 0; i < x.length; i++) order[i] = i;
        Arrays.sort(order, (p, q) -> Double.compare(x[p], x[q]));
        double[] ranks = new double[x.length];
        for (int i = 0; i < x.length; ) {
            int j = i;
            while (j + 1 < x.length && x[order[j + 1]] == x[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[order[k]] = rank;
            i = j + 1;
        }
        return ranks;
    }

    public static double pearson(double[] x, double[] y) {
        double mx = mean(x), my = mean(y), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
    }

    /** Spearman's ρ: Pearson's r of the (average) ranks. */
    public static double spearman(double[] x, double[] y) { return pearson(ranks(x), ranks(y)); }

    public static Figure spearmanWithInterval(double[] x, double[] y, long seed) {
        double[] ci = bootstrap(x.length, idx -> {
            double[] a = new double[idx.length], b = new double[idx.length];
            for (int i = 0; i < idx.length; i++) {
                a[i] = x[idx[i]];
                b[i] = y[idx[i]];
            }
            return spearman(a, b);
        }, seed);
        return Figure.of(spearman(x, y), ci, x.length, "Spearman rho, 95% percentile bootstrap");
    }

    /** Area under the ROC curve: P(score of a positive > score of a negative), ties counting half (Mann–Whitney). */
    public static double auroc(double[] positive, double[] negative) {
        double wins = 0;
        for (double p : positive) for (double n : negative) wins += p > n ? 1 : p == n ? 0.5 : 0;
        return wins / ((double) positive.length * negative.length);
    }

    public static Figure aurocWithInterval(double[] positive, double[] negative, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] values = new double[RESAMPLES];
        double[] p = new double[positive.length], n = new double[negative.length];
        for (int k = 0; k < RESAMPLES; k++) {
            for (int i = 0; i < p.length; i++) p[i] = positive[r.nextInt(p.length)];
            for (int i = 0; i < n.length; i++) n[i] = negative[r.nextInt(n.length)];
            values[k] = auroc(p, n);
        }
        Arrays.sort(values);
        return new Figure(auroc(positive, negative), values[(int) (0.025 * RESAMPLES)], values[(int) Math.ceil(0.975 * RESAMPLES) - 1],
                positive.length + negative.length, "AUROC, 95% percentile bootstrap");
    }

    /**
     * Normalised pointwise mutual information of two events from counts: nPMI = log(p(xy)/(p(x)p(y))) / −log p(xy),
     * in [−1, 1]; −1 when they never co-occur.
     */
    public static double npmi(long both, long x, long y, long total) {
        if (both == 0) return -1;
        double pxy = (double) both / total, px = (double) x / total, py = (double) y / total;
        if (pxy >= 1) return 1;
        return Math.log(pxy / (px * py)) / -Math.log(pxy);
    }

    /** |A ∩ B| / |A ∪ B|. */
    public static double jaccard(int[] a, int[] b) {
        Set<Integer> sa = new HashSet<>(), union = new HashSet<>();
        for (int v : a) {
            sa.add(v);
            union.add(v);
        }
        int common = 0;
        Set<Integer> seen = new HashSet<>();
        for (int v : b) {
            union.add(v);
            if (sa.contains(v) && seen.add(v)) common++;
        }
        return union.isEmpty() ? 1 : (double) common / union.size();
    }

    /** Σ_e min(w1_e, w2_e) with each weight set normalised to sum 1: 1 for identical routing, 0 for disjoint. */
    public static double weightedOverlap(int[] ea, float[] wa, int[] eb, float[] wb) {
        double sa = 0, sb = 0;
        for (float w : wa) sa += w;
        for (float w : wb) sb += w;
        double overlap = 0;
        for (int i = 0; i < ea.length; i++) {
            for (int j = 0; j < eb.length; j++) {
                if (ea[i] == eb[j]) overlap += Math.min(wa[i] / sa, wb[j] / sb);
            }
        }
        return overlap;
    }

    /** Distinct n-grams over all n-grams of a set of tokenised texts. */
    public static double distinctN(List<List<String>> texts, int n) {
        Set<List<String>> distinct = new HashSet<>();
        long total = 0;
        for (List<String> words : texts) {
            for (int i = 0; i + n <= words.size(); i++) {
                distinct.add(List.copyOf(words.subList(i, i + n)));
                total++;
            }
        }
        return total == 0 ? 0 : (double) distinct.size() / total;
    }

    /** Wilson score interval for k successes in n (z = 1.96). */
    public static double[] wilson(long k, long n) {
        if (n == 0) return new double[] {Double.NaN, Double.NaN};
        double z = 1.959963984540054, p = (double) k / n;
        double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
        double half = z * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / (1 + z * z / n);
        return new double[] {centre - half, centre + half};
    }
}
