package org.moescope.text.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of token ids into text without ever emitting half a character: bytes of an
 * incomplete UTF-8 sequence are held until the sequence completes (or is proven invalid, when
 * they are emitted as U+FFFD, as a whole decode would).
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    StreamingDecoder(Tokenizer tokenizer) { this.tokenizer = tokenizer; }

    /** The text that became complete with this token (possibly empty). */
    public String next(int id) {
        byte[] b = tokenizer.bytes(id);
        pending.write(b, 0, b.length);
        byte[] all = pending.toByteArray();
        int complete = completePrefix(all);
        pending.reset();
        pending.write(all, complete, all.length - complete);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    /** Whatever is held, decoded (U+FFFD for an incomplete sequence): call at the end. */
    public String flush() {
        String s = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return s;
    }

    /**
     * Length of the longest prefix that does not end inside a UTF-8 sequence that could still
     * complete. A lead byte followed by too few bytes is held only if those bytes are valid
     * continuation bytes so far.
     */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // look back at most 3 bytes for the start of the last sequence
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xFF;
            if ((c & 0xC0) == 0x80) continue; // continuation byte: keep looking for the lead
            int need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1;
            if (need == 1 || (c >= 0xF5)) return n; // ASCII or invalid lead: nothing to wait for
            return back < need ? n - back : n;
        }
        return n;
    }
}
