package org.moescope.study.stats;

import java.util.Locale;

/** A measured number with its 95% confidence interval, sample size and how the interval was made. */
public record Figure(double value, double low, double high, int n, String method) {
    public static Figure of(double value, double[] ci, int n, String method) { return new Figure(value, ci[0], ci[1], n, method); }

    @Override
    public String toString() { return String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", value, low, high); }
}
