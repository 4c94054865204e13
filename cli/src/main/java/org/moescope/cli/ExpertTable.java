package org.moescope.cli;

import java.io.PrintStream;

import org.moescope.runtime.RoutingRecorder;
import org.moescope.text.tokenizer.Tokenizer;

/** The experts each generated token used, one row per token, one column per layer ("expert:weight", best first). */
final class ExpertTable {
    private ExpertTable() {}

    /**
     * Row i shows the routing computed when token i was the model's input, which is what decided
     * the token after it; generated token j is the input at position promptLength + j.
     */
    static void print(PrintStream out, Tokenizer tokenizer, RoutingRecorder routing, int promptLength, int[] generated) {
        int layers = -1;
        for (var r : routing.tokens()) {
            layers = r.experts().length;
            break;
        }
        if (layers < 0) return;
        StringBuilder header = new StringBuilder(String.format("%-5s %-14s", "pos", "token"));
        for (int l = 0; l < layers; l++) header.append(String.format(" | %-20s", "layer " + l));
        out.println();
        out.println("experts chosen for each token (expert:weight, best first) — the routing that produced the next token:");
        out.println(header);
        for (int i = -1; i < generated.length; i++) {
            int position = promptLength + i;
            var r = routing.at(position);
            if (r == null) continue;
            String piece = i < 0 ? "(prompt end)" : tokenizer.piece(generated[i]);
            StringBuilder row = new StringBuilder(String.format("%-5d %-14s", position, quote(piece)));
            for (int l = 0; l < layers; l++) {
                StringBuilder cell = new StringBuilder();
                int[] e = r.experts()[l];
                float[] w = r.weights()[l];
                if (e == null) {
                    cell.append("dense");
                } else {
                    for (int k = 0; k < e.length; k++) {
                        if (k > 0) cell.append(' ');
                        cell.append(e[k]).append(':').append(String.format("%.2f", w[k]).substring(1));
                    }
                }
                row.append(String.format(" | %-20s", cell));
            }
            out.println(row);
        }
    }

    private static String quote(String piece) {
        String s = piece.replace("\n", "\\n").replace("\t", "\\t");
        if (s.length() > 12) s = s.substring(0, 11) + "…";
        return "\"" + s + "\"";
    }
}
