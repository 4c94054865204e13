package org.moescope.text.template;

import java.math.BigDecimal;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python's value semantics as jinja2 exposes them: None, bool, int (long), float (double), str,
 * list, tuple, dict, jinja2's Undefined; truthiness, str(), repr(), ==, ordering, json.dumps.
 */
final class Values {
    private Values() {}

    /** Python's None. */
    static final Object NONE = new Object() {
        @Override public String toString() { return "None"; }
    };

    /** jinja2's default Undefined: prints as "", is false, fails when used further. */
    record Undefined(String name) {
        TemplateException error() { return new TemplateException("'" + name + "' is undefined"); }
    }

    /** An immutable sequence that prints as a tuple. */
    static final class Tuple extends AbstractList<Object> {
        private final List<Object> items;

        Tuple(List<Object> items) { this.items = List.copyOf(items.stream().map(i -> i == null ? NONE : i).toList()); }

        @Override public Object get(int i) { return items.get(i); }

        @Override public int size() { return items.size(); }
    }

    /** jinja2's namespace(): attributes settable from inner scopes. */
    static final class Namespace {
        final Map<String, Object> attributes = new LinkedHashMap<>();
    }

    /** A callable: macros, bound methods, global functions. */
    interface Function {
        Object call(List<Object> arguments, Map<String, Object> keywords);
    }

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Undefined u -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Double d -> d != 0;
            case String s -> !s.isEmpty();
            case List<?> l -> !l.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> v != NONE;
        };
    }

    static boolean isNone(Object v) { return v == null || v == NONE; }

    /** Python's str(). */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case Undefined u -> "";
            case String s -> s;
            case Boolean b -> b ? "True" : "False";
            case Long l -> l.toString();
            case Double d -> floatRepr(d);
            case List<?> l -> repr(l);
            case Map<?, ?> m -> repr(m);
            default -> v.toString();
        };
    }

    /** Python's repr(). */
    static String repr(Object v) {
        return switch (v) {
            case String s -> stringRepr(s);
            case Tuple t -> {
                StringBuilder sb = new StringBuilder("(");
                for (int i = 0; i < t.size(); i++) {
                    if (i > 0) sb.append(", ");
                    sb.append(repr(t.get(i)));
                }
                yield sb.append(t.size() == 1 ? ",)" : ")").toString();
            }
            case List<?> l -> {
                StringBuilder sb = new StringBuilder("[");
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) sb.append(", ");
                    sb.append(repr(l.get(i)));
                }
                yield sb.append("]").toString();
            }
            case Map<?, ?> m -> {
                StringBuilder sb = new StringBuilder("{");
                boolean first = true;
                for (var e : m.entrySet()) {
                    if (!first) sb.append(", ");
                    first = false;
                    sb.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                }
                yield sb.append("}").toString();
            }
            case Undefined u -> "Undefined";
            default -> str(v);
        };
    }

    /** Python quotes with ' unless the string holds ' and no ". */
    static String stringRepr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == quote || c == '\\') sb.append('\\').append(c);
            else if (c == '\n') sb.append("\\n");
            else if (c == '\r') sb.append("\\r");
            else if (c == '\t') sb.append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(c);
        }
        return sb.append(quote).toString();
    }

    /** Python's float repr: the shortest round-tripping digits, scientific below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = exact.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - exact.scale(); // d = 0.digits × 10^(exponent+1)
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        if (exponent < 0) return sign + "0." + "0".repeat(-exponent - 1) + digits;
        if (digits.length() <= exponent + 1) return sign + digits + "0".repeat(exponent + 1 - digits.length()) + ".0";
        return sign + digits.substring(0, exponent + 1) + "." + digits.substring(exponent + 1);
    }

    static boolean equal(Object a, Object b) {
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNone(a) || isNone(b)) return isNone(a) && isNone(b);
        if (isNumeric(a) && isNumeric(b)) return toDouble(a) == toDouble(b);
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) return false;
            for (int i = 0; i < x.size(); i++) if (!equal(x.get(i), y.get(i))) return false;
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) return false;
            for (var e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !equal(e.getValue(), y.get(e.getKey()))) return false;
            }
            return true;
        }
        return a.equals(b);
    }

    static boolean isNumeric(Object v) { return v instanceof Long || v instanceof Double || v instanceof Boolean; }

    static double toDouble(Object v) {
        return switch (v) {
            case Long l -> l;
            case Double d -> d;
            case Boolean b -> b ? 1 : 0;
            default -> throw new TemplateException("not a number: " + repr(v));
        };
    }

    static long toLong(Object v) {
        return switch (v) {
            case Long l -> l;
            case Boolean b -> b ? 1 : 0;
            case Double d -> (long) (double) d;
            default -> throw new TemplateException("not an integer: " + repr(v));
        };
    }

    static int compare(Object a, Object b) {
        if (isNumeric(a) && isNumeric(b)) return Double.compare(toDouble(a), toDouble(b));
        if (a instanceof String x && b instanceof String y) return comparePython(x, y);
        if (a instanceof List<?> x && b instanceof List<?> y) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                int c = compare(x.get(i), y.get(i));
                if (c != 0) return c;
            }
            return Integer.compare(x.size(), y.size());
        }
        throw new TemplateException("cannot order " + typeName(a) + " and " + typeName(b));
    }

    /** Python compares strings by code point, Java's compareTo by UTF-16 unit. */
    private static int comparePython(String x, String y) {
        Iterator<Integer> a = x.codePoints().iterator(), b = y.codePoints().iterator();
        while (a.hasNext() && b.hasNext()) {
            int c = Integer.compare(a.next(), b.next());
            if (c != 0) return c;
        }
        return Boolean.compare(a.hasNext(), b.hasNext());
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case Undefined u -> "Undefined";
            case String s -> "str";
            case Boolean b -> "bool";
            case Long l -> "int";
            case Double d -> "float";
            case Tuple t -> "tuple";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            default -> v == NONE ? "NoneType" : v.getClass().getSimpleName();
        };
    }

    /** Iterating a value as Python does: lists, dict keys, string characters; Undefined is empty. */
    static List<Object> iterate(Object v) {
        return switch (v) {
            case Undefined u -> List.of();
            case List<?> l -> new ArrayList<>(l);
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case String s -> {
                List<Object> chars = new ArrayList<>();
                s.codePoints().forEach(c -> chars.add(new String(Character.toChars(c))));
                yield chars;
            }
            default -> throw new TemplateException("'" + typeName(v) + "' object is not iterable");
        };
    }

    /** json.dumps(v, ensure_ascii=False, indent, separators, sort_keys), as HF's tojson filter. */
    static String json(Object v, Integer indent, String itemSeparator, String keySeparator, boolean sortKeys) {
        StringBuilder sb = new StringBuilder();
        String items = itemSeparator != null ? itemSeparator : indent != null ? "," : ", ";
        String keys = keySeparator != null ? keySeparator : ": ";
        json(sb, v, indent, items, keys, sortKeys, 0);
        return sb.toString();
    }

    private static void json(StringBuilder sb, Object v, Integer indent, String items, String keys, boolean sort, int depth) {
        switch (v) {
            case null -> sb.append("null");
            case Undefined u -> sb.append("null");
            case Boolean b -> sb.append(b ? "true" : "false");
            case Long l -> sb.append(l);
            case Double d -> sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : floatRepr(d));
            case String s -> jsonString(sb, s);
            case List<?> l -> {
                if (l.isEmpty()) {
                    sb.append("[]");
                    return;
                }
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) sb.append(items);
                    newline(sb, indent, depth + 1);
                    json(sb, l.get(i), indent, items, keys, sort, depth + 1);
                }
                newline(sb, indent, depth);
                sb.append(']');
            }
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    sb.append("{}");
                    return;
                }
                List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
                if (sort) entries.sort((a, b) -> compare(a.getKey(), b.getKey()));
                sb.append('{');
                boolean first = true;
                for (var e : entries) {
                    if (!first) sb.append(items);
                    first = false;
                    newline(sb, indent, depth + 1);
                    Object k = e.getKey();
                    jsonString(sb, k instanceof String s ? s : k instanceof Boolean b ? (b ? "true" : "false") : str(k));
                    sb.append(keys);
                    json(sb, e.getValue(), indent, items, keys, sort, depth + 1);
                }
                newline(sb, indent, depth);
                sb.append('}');
            }
            case Namespace n -> json(sb, n.attributes, indent, items, keys, sort, depth);
            default -> {
                if (v == NONE) sb.append("null");
                else throw new TemplateException("Object of type " + typeName(v) + " is not JSON serializable");
            }
        }
    }

    private static void newline(StringBuilder sb, Integer indent, int depth) {
        if (indent == null) return;
        sb.append('\n').append(" ".repeat(indent * depth));
    }

    private static void jsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /** Converts Java values given by callers (nulls, ints, arrays, records-as-maps) to template values. */
    static Object fromJava(Object v) {
        return switch (v) {
            case null -> NONE;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case Float f -> (double) f;
            case Long l -> l;
            case Double d -> d;
            case String s -> s;
            case Boolean b -> b;
            case Map<?, ?> m -> {
                Map<Object, Object> out = new LinkedHashMap<>();
                m.forEach((k, val) -> out.put(k, fromJava(val)));
                yield out;
            }
            case List<?> l -> {
                List<Object> out = new ArrayList<>();
                for (Object o : l) out.add(fromJava(o));
                yield out;
            }
            case Object[] a -> fromJava(List.of(a));
            default -> v;
        };
    }
}
