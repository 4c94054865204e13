package org.moescope.study.studies;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.moescope.study.Data;
import org.moescope.study.StudyContext;

/** Calibration texts from any data file: each line's "text", "sentence", "definition" or "prompt". */
final class Calibration {
    private Calibration() {}

    static List<String> texts(StudyContext ctx, int limit) {
        List<String> out = new ArrayList<>();
        for (JsonNode r : Data.read(ctx.data())) {
            for (String field : new String[] {"text", "sentence", "definition", "prompt"}) {
                if (r.path(field).isTextual() && !r.get(field).asText().isBlank()) {
                    out.add(r.get(field).asText());
                    break;
                }
            }
            if (out.size() >= limit) break;
        }
        if (out.isEmpty()) throw new IllegalArgumentException(ctx.data() + " holds no text, sentence, definition or prompt fields");
        return out;
    }

    /** Every other text: even indices calibrate, odd ones evaluate. */
    static List<String> half(List<String> texts, int parity) {
        List<String> out = new ArrayList<>();
        for (int i = parity; i < texts.size(); i += 2) out.add(texts.get(i));
        return out;
    }
}
