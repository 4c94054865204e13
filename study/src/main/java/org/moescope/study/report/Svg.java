package org.moescope.study.report;

import java.util.List;
import java.util.Locale;

/**
 * Inline SVG charts for self-contained reports: line charts with confidence bands (per-layer
 * curves), bar charts with error bars, heatmaps with a colour legend, scatter plots. Colours from
 * the Okabe–Ito palette (safe for colour-blind readers); every mark carries a {@code <title>}
 * tooltip with its value.
 */
public final class Svg {
    static final String[] PALETTE = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"};
    private static final int W = 680, H = 300, LEFT = 60, RIGHT = 20, TOP = 30, BOTTOM = 45;

    private Svg() {}

    /** One line of a line chart: y per x with optional lower/upper band (NaN for none). */
    public record Series(String name, double[] y, double[] low, double[] high) {}

    /** A bar with an optional interval. */
    public record Bar(String label, double value, double low, double high) {}

    public static String lineChart(String title, String xLabel, String yLabel, double[] x, List<Series> series) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.y().length; i++) {
                for (double v : new double[] {s.y()[i], s.low() == null ? s.y()[i] : s.low()[i], s.high() == null ? s.y()[i] : s.high()[i]}) {
                    if (Double.isFinite(v)) {
                        min = Math.min(min, v);
                        max = Math.max(max, v);
                    }
                }
            }
        }
        if (!Double.isFinite(min)) return empty(title);
        double[] yr = niceRange(min, max);
        double x0 = x[0], x1 = x.length > 1 ? x[x.length - 1] : x[0] + 1;
        StringBuilder sb = frame(title, xLabel, yLabel, yr, x0, x1, x);
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            String colour = PALETTE[k % PALETTE.length];
            if (s.low() != null && s.high() != null) {
                StringBuilder band = new StringBuilder();
                for (int i = 0; i < x.length; i++) band.append(i == 0 ? "M" : "L").append(px(x[i], x0, x1)).append(',').append(py(s.high()[i], yr));
                for (int i = x.length - 1; i >= 0; i--) band.append('L').append(px(x[i], x0, x1)).append(',').append(py(s.low()[i], yr));
                sb.append("<path d=\"").append(band).append("Z\" fill=\"").append(colour).append("\" fill-opacity=\"0.18\" stroke=\"none\"/>");
            }
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < x.length; i++) line.append(i == 0 ? "M" : "L").append(px(x[i], x0, x1)).append(',').append(py(s.y()[i], yr));
            sb.append("<path d=\"").append(line).append("\" fill=\"none\" stroke=\"").append(colour).append("\" stroke-width=\"2\"/>");
            for (int i = 0; i < x.length; i++) {
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%s, %s = %s: %s</title></circle>",
                        px(x[i], x0, x1), py(s.y()[i], yr), colour, Html.escape(s.name()), Html.escape(xLabel), fmt(x[i]),
                        interval(s.y()[i], s.low() == null ? Double.NaN : s.low()[i], s.high() == null ? Double.NaN : s.high()[i])));
            }
        }
        legend(sb, series.stream().map(Series::name).toList());
        return sb.append("</svg>").toString();
    }

    public static String barChart(String title, String yLabel, List<Bar> bars) {
        if (bars.isEmpty()) return empty(title);
        double min = 0, max = 0;
        for (Bar b : bars) {
            for (double v : new double[] {b.value(), b.low(), b.high()}) {
                if (Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        double[] yr = niceRange(min, max);
        StringBuilder sb = frame(title, "", yLabel, yr, 0, bars.size(), null);
        double slot = (double) (W - LEFT - RIGHT) / bars.size();
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            double cx = LEFT + slot * (i + 0.5), w = Math.min(60, slot * 0.6);
            double top = py(Math.max(b.value(), 0), yr), bottom = py(Math.min(b.value(), 0), yr);
            sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>",
                    cx - w / 2, top, w, Math.max(0.5, bottom - top), PALETTE[0], Html.escape(b.label()), interval(b.value(), b.low(), b.high())));
            if (Double.isFinite(b.low()) && Double.isFinite(b.high())) {
                double lo = py(b.low(), yr), hi = py(b.high(), yr);
                sb.append(String.format(Locale.ROOT, "<path d=\"M%.1f,%.1fL%.1f,%.1fM%.1f,%.1fL%.1f,%.1fM%.1f,%.1fL%.1f,%.1f\" stroke=\"#333\" stroke-width=\"1.5\"/>",
                        cx, lo, cx, hi, cx - 6, lo, cx + 6, lo, cx - 6, hi, cx + 6, hi));
            }
            String label = b.label().length() > 18 ? b.label().substring(0, 17) + "…" : b.label();
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" transform=\"rotate(-30 %.1f %d)\">%s</text>",
                    cx, H - BOTTOM + 14, cx, H - BOTTOM + 14, Html.escape(label)));
        }
        return sb.append("</svg>").toString();
    }

    /** values[row][column]; colour from the minimum (light) to the maximum (dark). */
    public static String heatmap(String title, String rowLabel, String columnLabel, String[] rows, String[] columns, double[][] values) {
        if (rows.length == 0 || columns.length == 0) return empty(title);
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (double[] r : values) for (double v : r) if (Double.isFinite(v)) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        if (!Double.isFinite(min)) return empty(title);
        int cell = Math.max(6, Math.min(28, (W - LEFT - 80) / columns.length));
        int rowH = Math.max(10, Math.min(28, 360 / rows.length));
        int width = LEFT + cell * columns.length + 90, height = TOP + rowH * rows.length + 40;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">", width, height, width, height));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>", LEFT, Html.escape(title)));
        for (int r = 0; r < rows.length; r++) {
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%s</text>", LEFT - 4, TOP + r * rowH + rowH / 2 + 4, Html.escape(rows[r])));
            for (int c = 0; c < columns.length; c++) {
                double v = values[r][c];
                sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s %s, %s %s: %s</title></rect>",
                        LEFT + c * cell, TOP + r * rowH, cell, rowH, colour(v, min, max), Html.escape(rowLabel), Html.escape(rows[r]),
                        Html.escape(columnLabel), Html.escape(columns[c]), fmt(v)));
            }
        }
        int step = Math.max(1, columns.length / 16);
        for (int c = 0; c < columns.length; c += step) {
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
                    LEFT + c * cell + cell / 2, TOP + rows.length * rowH + 12, Html.escape(columns[c])));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>",
                LEFT + cell * columns.length / 2, TOP + rows.length * rowH + 28, Html.escape(columnLabel)));
        int lx = LEFT + cell * columns.length + 20;
        for (int i = 0; i < 10; i++) {
            double v = max - (max - min) * i / 9.0;
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"12\" fill=\"%s\"/>", lx, TOP + i * 12, colour(v, min, max)));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>", lx + 18, TOP + 10, fmt(max)));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>", lx + 18, TOP + 118, fmt(min)));
        return sb.append("</svg>").toString();
    }

    public static String scatter(String title, String xLabel, String yLabel, double[] x, double[] y, String[] labels) {
        double minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY, minY = Double.POSITIVE_INFINITY, maxY = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) continue;
            minX = Math.min(minX, x[i]);
            maxX = Math.max(maxX, x[i]);
            minY = Math.min(minY, y[i]);
            maxY = Math.max(maxY, y[i]);
        }
        if (!Double.isFinite(minX)) return empty(title);
        double[] yr = niceRange(minY, maxY), xr = niceRange(minX, maxX);
        StringBuilder sb = frame(title, xLabel, yLabel, yr, xr[0], xr[1], null);
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) continue;
            sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" fill-opacity=\"0.7\"><title>%s: (%s, %s)</title></circle>",
                    px(x[i], xr[0], xr[1]), py(y[i], yr), PALETTE[0], Html.escape(labels == null ? "" : labels[i]), fmt(x[i]), fmt(y[i])));
        }
        return sb.append("</svg>").toString();
    }

    private static StringBuilder frame(String title, String xLabel, String yLabel, double[] yr, double x0, double x1, double[] xTicks) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">", W, H, W, H));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>", LEFT, Html.escape(title)));
        for (int i = 0; i <= 4; i++) {
            double v = yr[0] + (yr[1] - yr[0]) * i / 4;
            double y = py(v, yr);
            sb.append(String.format(Locale.ROOT, "<path d=\"M%d,%.1fL%d,%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>",
                    LEFT, y, W - RIGHT, y, LEFT - 5, y + 3, fmt(v)));
        }
        sb.append(String.format(Locale.ROOT, "<path d=\"M%d,%dL%d,%dL%d,%d\" stroke=\"#333\" fill=\"none\"/>", LEFT, TOP, LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM));
        if (xTicks != null) {
            int step = Math.max(1, xTicks.length / 16);
            for (int i = 0; i < xTicks.length; i += step) {
                sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
                        px(xTicks[i], x0, x1), H - BOTTOM + 14, fmt(xTicks[i])));
            }
        } else if (!xLabel.isEmpty()) {
            for (int i = 0; i <= 4; i++) {
                double v = x0 + (x1 - x0) * i / 4;
                sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>", px(v, x0, x1), H - BOTTOM + 14, fmt(v)));
            }
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>", (LEFT + W - RIGHT) / 2, H - 8, Html.escape(xLabel)));
        sb.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">%s</text>",
                (TOP + H - BOTTOM) / 2, (TOP + H - BOTTOM) / 2, Html.escape(yLabel)));
        return sb;
    }

    private static void legend(StringBuilder sb, List<String> names) {
        int x = W - RIGHT - 170, y = TOP + 4;
        for (int i = 0; i < names.size(); i++) {
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"4\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>",
                    x, y + i * 15, PALETTE[i % PALETTE.length], x + 16, y + i * 15 + 5, Html.escape(names.get(i))));
        }
    }

    private static String empty(String title) {
        return String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"60\"><text x=\"10\" y=\"20\" font-size=\"14\" "
                + "font-weight=\"bold\">%s</text><text x=\"10\" y=\"45\" font-size=\"12\" fill=\"#777\">no data</text></svg>", W, Html.escape(title));
    }

    private static double px(double x, double x0, double x1) { return LEFT + (x - x0) / (x1 - x0 == 0 ? 1 : x1 - x0) * (W - LEFT - RIGHT); }

    private static double py(double y, double[] yr) { return H - BOTTOM - (y - yr[0]) / (yr[1] - yr[0]) * (H - TOP - BOTTOM); }

    static double[] niceRange(double min, double max) {
        if (min == max) {
            double pad = Math.abs(min) * 0.1 + 1e-6;
            return new double[] {min - pad, max + pad};
        }
        double pad = (max - min) * 0.05;
        return new double[] {min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad};
    }

    /** Sequential blue scale. */
    static String colour(double v, double min, double max) {
        if (!Double.isFinite(v)) return "#eee";
        double t = max == min ? 0.5 : (v - min) / (max - min);
        int r = (int) (247 - t * (247 - 8)), g = (int) (251 - t * (251 - 48)), b = (int) (255 - t * (255 - 107));
        return String.format("#%02x%02x%02x", r, g, b);
    }

    static String fmt(double v) {
        if (!Double.isFinite(v)) return "n/a";
        if (v == Math.rint(v) && Math.abs(v) < 1e6) return String.valueOf((long) v);
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.1f" : Math.abs(v) >= 1 ? "%.3f" : "%.4f", v);
    }

    static String interval(double v, double lo, double hi) {
        return Double.isFinite(lo) && Double.isFinite(hi) ? fmt(v) + " [" + fmt(lo) + ", " + fmt(hi) + "]" : fmt(v);
    }
}
