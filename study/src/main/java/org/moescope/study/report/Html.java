package org.moescope.study.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.moescope.study.stats.Figure;

/** A self-contained HTML report: inline CSS and SVG, no scripts or fonts from the network. */
public final class Html {
    private final StringBuilder body = new StringBuilder();
    private final String title;

    public Html(String title) { this.title = title; }

    public static String escape(String s) {
        if (s == null) return "";
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }

    public Html heading(String text) {
        body.append("<h2>").append(escape(text)).append("</h2>\n");
        return this;
    }

    public Html paragraph(String text) {
        body.append("<p>").append(escape(text)).append("</p>\n");
        return this;
    }

    public Html figure(String svg, String caption) {
        body.append("<figure>").append(svg).append("<figcaption>").append(escape(caption)).append("</figcaption></figure>\n");
        return this;
    }

    /** Key figures as a table: name, value [95% CI], n, method. */
    public Html figures(List<String> names, List<Figure> figures) {
        body.append("<table><tr><th>figure</th><th>value [95% CI]</th><th>n</th><th>method</th></tr>");
        for (int i = 0; i < names.size(); i++) {
            Figure f = figures.get(i);
            body.append("<tr><td>").append(escape(names.get(i))).append("</td><td class=\"num\">").append(escape(f.toString()))
                    .append("</td><td class=\"num\">").append(f.n()).append("</td><td>").append(escape(f.method())).append("</td></tr>");
        }
        body.append("</table>\n");
        return this;
    }

    public Html table(List<String> header, List<List<String>> rows) {
        body.append("<table><tr>");
        for (String h : header) body.append("<th>").append(escape(h)).append("</th>");
        body.append("</tr>");
        for (List<String> row : rows) {
            body.append("<tr>");
            for (String c : row) body.append("<td>").append(escape(c)).append("</td>");
            body.append("</tr>");
        }
        body.append("</table>\n");
        return this;
    }

    public Html details(String summary, String preformatted) {
        body.append("<details><summary>").append(escape(summary)).append("</summary><pre>").append(escape(preformatted)).append("</pre></details>\n");
        return this;
    }

    public String render() {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title><style>"
                + "body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}"
                + "h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}"
                + "table{border-collapse:collapse;margin:.8em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
                + "td.num{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1em 0}figcaption{font-size:.85em;color:#555}"
                + "pre{background:#f6f6f6;padding:.6em;overflow-x:auto}</style></head><body>\n<h1>" + escape(title) + "</h1>\n" + body
                + "</body></html>\n";
    }

    public void write(Path file) {
        try {
            Files.writeString(file, render(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
