package org.moescope.text.template;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a Jinja template into text and tag tokens, applying whitespace control as jinja2 does
 * with {@code trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False} (the way HF
 * transformers configures it): {@code {%-}/{{-}/{#-} strip whitespace before a tag, {@code -%}} etc.
 * after it; a block or comment tag swallows the newline after it and the indentation before it when
 * it stands alone on its line; {@code {%+} keeps that indentation.
 */
final class Lexer {
    enum Kind { TEXT, NAME, STRING, INTEGER, FLOAT, OPERATOR, PRINT_BEGIN, PRINT_END, BLOCK_BEGIN, BLOCK_END, EOF }

    record Token(Kind kind, String text, int line) {
        boolean is(Kind k, String t) { return kind == k && text.equals(t); }

        @Override public String toString() { return kind + "(" + text + ")"; }
    }

    private final String source;
    private int position;
    private int line = 1;
    private final List<Token> tokens = new ArrayList<>();

    private Lexer(String source) { this.source = source; }

    static List<Token> tokenize(String template) {
        String s = template.endsWith("\n") ? template.substring(0, template.length() - 1) : template; // keep_trailing_newline=False
        Lexer lexer = new Lexer(s);
        lexer.run();
        return lexer.tokens;
    }

    private void run() {
        boolean stripNextLeading = false;   // the previous tag ended with '-'
        boolean trimNextNewline = false;    // the previous tag was a block or comment (trim_blocks)
        while (position < source.length()) {
            int open = nextTag(position);
            String text = source.substring(position, open < 0 ? source.length() : open);
            if (open < 0) {
                addText(text, stripNextLeading, trimNextNewline, false, false);
                position = source.length();
                break;
            }
            char type = source.charAt(open + 1);
            char modifier = open + 2 < source.length() ? source.charAt(open + 2) : ' ';
            boolean stripBefore = modifier == '-';
            boolean keepIndent = modifier == '+';
            boolean lstrip = (type == '%' || type == '#') && !keepIndent && !stripBefore;
            addText(text, stripNextLeading, trimNextNewline, stripBefore, lstrip);
            line += count(text, '\n');
            position = open + 2 + (stripBefore || keepIndent ? 1 : 0);
            boolean stripAfter;
            if (type == '#') {
                int close = source.indexOf("#}", position);
                if (close < 0) throw new TemplateException(line, "comment is not closed");
                stripAfter = close > position && source.charAt(close - 1) == '-';
                line += count(source.substring(position, close), '\n');
                position = close + 2;
                stripNextLeading = stripAfter;
                trimNextNewline = true;
                continue;
            }
            boolean block = type == '%';
            tokens.add(new Token(block ? Kind.BLOCK_BEGIN : Kind.PRINT_BEGIN, block ? "{%" : "{{", line));
            stripAfter = expressionTokens(block ? "%}" : "}}");
            tokens.add(new Token(block ? Kind.BLOCK_END : Kind.PRINT_END, block ? "%}" : "}}", line));
            stripNextLeading = stripAfter;
            trimNextNewline = block;
            if (block && isRaw()) readRaw();
        }
        tokens.add(new Token(Kind.EOF, "", line));
    }

    private static int count(String s, char c) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) == c) n++;
        return n;
    }

    private int nextTag(int from) {
        for (int i = from; i + 1 < source.length(); i++) {
            if (source.charAt(i) == '{') {
                char c = source.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') return i;
            }
        }
        return -1;
    }

    private void addText(String text, boolean stripLeading, boolean trimNewline, boolean stripTrailing, boolean lstripBlock) {
        int begin = 0;
        if (stripLeading) {
            while (begin < text.length() && Character.isWhitespace(text.charAt(begin))) begin++;
        } else if (trimNewline) {
            if (text.startsWith("\r\n")) begin = 2;
            else if (text.startsWith("\n")) begin = 1;
        }
        int end = text.length();
        if (stripTrailing) {
            while (end > begin && Character.isWhitespace(text.charAt(end - 1))) end--;
        } else if (lstripBlock) {
            // lstrip_blocks: spaces and tabs between the start of a line and the tag go
            int run = text.length();
            while (run > 0 && (text.charAt(run - 1) == ' ' || text.charAt(run - 1) == '\t')) run--;
            boolean lineStart = run > 0 ? text.charAt(run - 1) == '\n' : position == 0 || source.charAt(position - 1) == '\n';
            if (lineStart) end = Math.max(begin, run);
        }
        if (end > begin) tokens.add(new Token(Kind.TEXT, text.substring(begin, end), line));
    }

    private static String stripLeadingWhitespace(String s) {
        int i = 0;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        return s.substring(i);
    }

    private static String stripTrailingWhitespace(String s) {
        int i = s.length();
        while (i > 0 && Character.isWhitespace(s.charAt(i - 1))) i--;
        return s.substring(0, i);
    }

    /** Lexes the inside of a tag up to its close; returns whether the close had a '-'. */
    private boolean expressionTokens(String close) {
        while (true) {
            skipSpaces();
            if (position >= source.length()) throw new TemplateException(line, "tag is not closed with " + close);
            if (source.startsWith("-" + close, position)) {
                position += 1 + close.length();
                return true;
            }
            if (source.startsWith(close, position)) {
                position += close.length();
                return false;
            }
            char c = source.charAt(position);
            if (Character.isLetter(c) || c == '_') {
                int start = position;
                while (position < source.length() && (Character.isLetterOrDigit(source.charAt(position)) || source.charAt(position) == '_')) position++;
                tokens.add(new Token(Kind.NAME, source.substring(start, position), line));
            } else if (Character.isDigit(c)) {
                int start = position;
                while (position < source.length() && (Character.isDigit(source.charAt(position)) || source.charAt(position) == '_')) position++;
                boolean isFloat = false;
                if (position + 1 < source.length() && source.charAt(position) == '.' && Character.isDigit(source.charAt(position + 1))) {
                    isFloat = true;
                    position++;
                    while (position < source.length() && Character.isDigit(source.charAt(position))) position++;
                }
                // an exponent only when digits follow (jinja2: "3e" is the integer 3, then the name e)
                int e = position;
                if (e < source.length() && (source.charAt(e) == 'e' || source.charAt(e) == 'E')) {
                    e++;
                    if (e < source.length() && (source.charAt(e) == '+' || source.charAt(e) == '-')) e++;
                    if (e < source.length() && Character.isDigit(source.charAt(e))) {
                        isFloat = true;
                        position = e;
                        while (position < source.length() && Character.isDigit(source.charAt(position))) position++;
                    }
                }
                tokens.add(new Token(isFloat ? Kind.FLOAT : Kind.INTEGER, source.substring(start, position).replace("_", ""), line));
            } else if (c == '\'' || c == '"') {
                tokens.add(new Token(Kind.STRING, readString(c), line));
            } else {
                String[] operators = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "(", ")", "[", "]", "{", "}",
                        ",", ".", ":", "|", "="};
                String found = null;
                for (String op : operators) {
                    if (source.startsWith(op, position)) {
                        found = op;
                        break;
                    }
                }
                if (found == null) throw new TemplateException(line, "unexpected character '" + c + "'");
                tokens.add(new Token(Kind.OPERATOR, found, line));
                position += found.length();
            }
        }
    }

    private void skipSpaces() {
        while (position < source.length() && Character.isWhitespace(source.charAt(position))) {
            if (source.charAt(position) == '\n') line++;
            position++;
        }
    }

    /** Python string literal escapes (jinja2 uses Python's string semantics). */
    private String readString(char quote) {
        StringBuilder sb = new StringBuilder();
        position++;
        while (true) {
            if (position >= source.length()) throw new TemplateException(line, "string is not closed");
            char c = source.charAt(position++);
            if (c == quote) break;
            if (c == '\n') line++;
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (position >= source.length()) throw new TemplateException(line, "string is not closed");
            char e = source.charAt(position++);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case '\\' -> sb.append('\\');
                case '\'' -> sb.append('\'');
                case '"' -> sb.append('"');
                case '0' -> sb.append('\0');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'x' -> sb.append(hexEscape(2));
                case 'u' -> sb.append(hexEscape(4));
                case '\n' -> line++;
                default -> sb.append('\\').append(e);
            }
        }
        return sb.toString();
    }

    /** The {@code digits} hex digits after \\x or \\u, as a character. */
    private char hexEscape(int digits) {
        if (position + digits > source.length()) throw new TemplateException(line, "truncated \\x or \\u escape");
        String hex = source.substring(position, position + digits);
        for (int i = 0; i < digits; i++) {
            if (Character.digit(hex.charAt(i), 16) < 0) throw new TemplateException(line, "bad escape: '" + hex + "' is not hexadecimal");
        }
        position += digits;
        return (char) Integer.parseInt(hex, 16);
    }

    private boolean isRaw() {
        int n = tokens.size();
        return n >= 3 && tokens.get(n - 2).is(Kind.NAME, "raw") && tokens.get(n - 3).kind == Kind.BLOCK_BEGIN;
    }

    /** {% raw %}...{% endraw %}: the text in between, untouched. */
    private void readRaw() {
        int n = tokens.size();
        tokens.subList(n - 3, n).clear();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{%(-?)\\s*endraw\\s*(-?)%}").matcher(source);
        if (!m.find(position)) throw new TemplateException(line, "raw block is not closed");
        String text = source.substring(position, m.start());
        if (!m.group(1).isEmpty()) text = stripTrailingWhitespace(text);
        if (!text.isEmpty()) tokens.add(new Token(Kind.TEXT, text, line));
        line += count(source.substring(position, m.end()), '\n');
        position = m.end();
    }
}
