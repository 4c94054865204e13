package org.moescope.text.template;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.moescope.text.template.Values.Function;
import org.moescope.text.template.Values.Undefined;

/**
 * jinja2's filters, tests and globals, Python's str/list/dict methods and operators, and HF's
 * template extras ({@code raise_exception}, {@code strftime_now}, {@code tojson} without ASCII escaping).
 */
final class Builtins {
    /** The most items range() or a repetition may make (a template is untrusted input). */
    static final int MAX_ITEMS = 4_000_000;

    private final Supplier<LocalDateTime> clock;

    Builtins(Supplier<LocalDateTime> clock) { this.clock = clock; }

    Map<String, Object> globals() {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("namespace", (Function) (args, kw) -> {
            Values.Namespace ns = new Values.Namespace();
            for (Object a : args) if (a instanceof Map<?, ?> m) m.forEach((k, v) -> ns.attributes.put(Values.str(k), v));
            ns.attributes.putAll(kw);
            return ns;
        });
        g.put("raise_exception", (Function) (args, kw) -> {
            throw new TemplateException("the template raised an exception: " + (args.isEmpty() ? "" : Values.str(args.getFirst())));
        });
        g.put("strftime_now", (Function) (args, kw) -> strftime(clock.get(), Values.str(args.getFirst())));
        g.put("range", (Function) (args, kw) -> {
            long start = 0, stop, step = 1;
            if (args.size() == 1) {
                stop = Values.toLong(args.get(0));
            } else {
                start = Values.toLong(args.get(0));
                stop = Values.toLong(args.get(1));
                if (args.size() > 2) step = Values.toLong(args.get(2));
            }
            if (step == 0) throw new TemplateException("range() step must not be zero");
            double length = Math.ceil(((double) stop - start) / step);
            if (length > MAX_ITEMS) throw new TemplateException("range() of " + (long) length + " items exceeds the limit of " + MAX_ITEMS);
            List<Object> out = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) out.add(i);
            return out;
        });
        g.put("dict", (Function) (args, kw) -> {
            Map<Object, Object> m = new LinkedHashMap<>();
            if (!args.isEmpty() && args.getFirst() instanceof Map<?, ?> source) m.putAll(source);
            m.putAll(kw);
            return m;
        });
        return g;
    }

    /** C's strftime for the directives chat templates use. */
    static String strftime(LocalDateTime t, String format) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                sb.append(c);
                continue;
            }
            char d = format.charAt(++i);
            boolean noPad = d == '-' && i + 1 < format.length();
            if (noPad) d = format.charAt(++i);
            String v = switch (d) {
                case 'Y' -> String.valueOf(t.getYear());
                case 'y' -> String.format("%02d", t.getYear() % 100);
                case 'm' -> String.format("%02d", t.getMonthValue());
                case 'd' -> String.format("%02d", t.getDayOfMonth());
                case 'e' -> String.format("%2d", t.getDayOfMonth());
                case 'H' -> String.format("%02d", t.getHour());
                case 'I' -> String.format("%02d", (t.getHour() + 11) % 12 + 1);
                case 'M' -> String.format("%02d", t.getMinute());
                case 'S' -> String.format("%02d", t.getSecond());
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'j' -> String.format("%03d", t.getDayOfYear());
                case '%' -> "%";
                default -> "%" + d;
            };
            if (noPad) v = v.replaceFirst("^[0 ]+(?=.)", "");
            sb.append(v);
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- attributes and items

    private static final List<String> DICT_METHODS = List.of("items", "keys", "values", "get", "pop", "update", "copy", "setdefault");

    /** jinja2's getattr: the Python attribute first (dict methods), then the item. */
    Object attribute(Object object, String name, int line) {
        return switch (object) {
            case null -> new Undefined(name);
            case Undefined u -> throw new TemplateException(line, "'" + u.name() + "' is undefined (reading ." + name + ")");
            case Values.Namespace ns -> ns.attributes.containsKey(name) ? ns.attributes.get(name) : new Undefined(name);
            case Interpreter.Loop loop -> loop.attribute(name);
            case Map<?, ?> m -> {
                if (DICT_METHODS.contains(name)) yield method(object, name);
                yield m.containsKey(name) ? m.get(name) : new Undefined(name);
            }
            case String s -> method(object, name);
            case List<?> l -> method(object, name);
            default -> new Undefined(name);
        };
    }

    /** jinja2's getitem: the item first, then the attribute. */
    Object item(Object object, Object key, int line) {
        if (object == null) return new Undefined(Values.repr(key));
        switch (object) {
            case Undefined u -> throw new TemplateException(line, "'" + u.name() + "' is undefined (reading [" + Values.repr(key) + "])");
            case Map<?, ?> m -> {
                if (m.containsKey(key)) return m.get(key);
                for (var e : m.entrySet()) if (Values.equal(e.getKey(), key)) return e.getValue();
                return key instanceof String s ? attribute(object, s, line) : new Undefined(Values.str(key));
            }
            case List<?> l -> {
                if (!(key instanceof Long) && !(key instanceof Boolean)) {
                    return key instanceof String s ? attribute(object, s, line) : new Undefined(Values.str(key));
                }
                long i = Values.toLong(key);
                if (i < 0) i += l.size();
                return i >= 0 && i < l.size() ? l.get((int) i) : new Undefined("[" + key + "]");
            }
            case String s -> {
                if (key instanceof String name) return attribute(object, name, line);
                List<Object> chars = Values.iterate(s);
                long i = Values.toLong(key);
                if (i < 0) i += chars.size();
                return i >= 0 && i < chars.size() ? chars.get((int) i) : new Undefined("[" + key + "]");
            }
            case Values.Namespace ns -> {
                return attribute(object, Values.str(key), line);
            }
            default -> {
                return new Undefined(Values.str(key));
            }
        }
    }

    /** Python slicing with optional negative bounds and step. */
    Object slice(Object object, Object start, Object stop, Object step) {
        boolean isString = object instanceof String;
        List<Object> items = Values.iterate(object);
        int n = items.size();
        long st = step == null || Values.isNone(step) ? 1 : Values.toLong(step);
        if (st == 0) throw new TemplateException("slice step cannot be zero");
        long lo, hi;
        if (st > 0) {
            lo = bound(start, n, 0, false);
            hi = bound(stop, n, n, false);
        } else {
            lo = bound(start, n, n - 1, true);
            hi = bound(stop, n, -1, true);
        }
        List<Object> out = new ArrayList<>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) out.add(items.get((int) i));
        if (!isString) return out;
        StringBuilder sb = new StringBuilder();
        for (Object o : out) sb.append(o);
        return sb.toString();
    }

    private static long bound(Object v, int n, long fallback, boolean reverse) {
        if (v == null || Values.isNone(v)) return fallback;
        long i = Values.toLong(v);
        if (i < 0) i += n;
        if (reverse) return Math.max(-1, Math.min(i, n - 1));
        return Math.max(0, Math.min(i, n));
    }

    // ---------------------------------------------------------------- methods

    private Function method(Object self, String name) {
        return switch (self) {
            case String s -> stringMethod(s, name);
            case List<?> l -> listMethod(l, name);
            case Map<?, ?> m -> dictMethod(m, name);
            default -> null;
        };
    }

    private static Function stringMethod(String s, String name) {
        return switch (name) {
            case "strip" -> (a, k) -> strip(s, a.isEmpty() || Values.isNone(a.getFirst()) ? null : Values.str(a.getFirst()), true, true);
            case "lstrip" -> (a, k) -> strip(s, a.isEmpty() || Values.isNone(a.getFirst()) ? null : Values.str(a.getFirst()), true, false);
            case "rstrip" -> (a, k) -> strip(s, a.isEmpty() || Values.isNone(a.getFirst()) ? null : Values.str(a.getFirst()), false, true);
            case "split" -> (a, k) -> split(s, a.isEmpty() || Values.isNone(a.getFirst()) ? null : Values.str(a.getFirst()),
                    a.size() > 1 ? Values.toLong(a.get(1)) : Values.toLong(k.getOrDefault("maxsplit", -1L)));
            case "rsplit" -> (a, k) -> {
                String sep = a.isEmpty() || Values.isNone(a.getFirst()) ? null : Values.str(a.getFirst());
                long max = a.size() > 1 ? Values.toLong(a.get(1)) : Values.toLong(k.getOrDefault("maxsplit", -1L));
                if (max < 0) return split(s, sep, -1);
                List<Object> reversed = split(new StringBuilder(s).reverse().toString(), sep == null ? null : new StringBuilder(sep).reverse().toString(), max);
                List<Object> out = new ArrayList<>();
                for (Object o : reversed) out.add(new StringBuilder((String) o).reverse().toString());
                Collections.reverse(out);
                return out;
            };
            case "splitlines" -> (a, k) -> new ArrayList<>(List.of((Object[]) s.split("\r\n|\r|\n", -1)));
            case "startswith" -> (a, k) -> anyAffix(a.getFirst(), p -> s.startsWith(p));
            case "endswith" -> (a, k) -> anyAffix(a.getFirst(), p -> s.endsWith(p));
            case "replace" -> (a, k) -> {
                String from = Values.str(a.get(0)), to = Values.str(a.get(1));
                long count = a.size() > 2 ? Values.toLong(a.get(2)) : -1;
                if (count < 0) return s.replace(from, to);
                String out = s;
                int at = 0;
                StringBuilder sb = new StringBuilder();
                for (long c = 0; c < count; c++) {
                    int i = out.indexOf(from, at);
                    if (i < 0) break;
                    sb.append(out, at, i).append(to);
                    at = i + from.length();
                }
                return sb.append(out.substring(at)).toString();
            };
            case "upper" -> (a, k) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (a, k) -> s.toLowerCase(Locale.ROOT);
            case "title" -> (a, k) -> title(s);
            case "capitalize" -> (a, k) -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "find" -> (a, k) -> (long) s.indexOf(Values.str(a.getFirst()));
            case "rfind" -> (a, k) -> (long) s.lastIndexOf(Values.str(a.getFirst()));
            case "index" -> (a, k) -> {
                int i = s.indexOf(Values.str(a.getFirst()));
                if (i < 0) throw new TemplateException("substring not found");
                return (long) i;
            };
            case "count" -> (a, k) -> {
                String sub = Values.str(a.getFirst());
                if (sub.isEmpty()) return (long) s.length() + 1;
                long c = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) c++;
                return c;
            };
            case "join" -> (a, k) -> {
                StringBuilder sb = new StringBuilder();
                List<Object> items = Values.iterate(a.getFirst());
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) sb.append(s);
                    sb.append(Values.str(items.get(i)));
                }
                return sb.toString();
            };
            case "isdigit" -> (a, k) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> (a, k) -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isspace" -> (a, k) -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
            case "format" -> (a, k) -> {
                StringBuilder sb = new StringBuilder();
                int next = 0;
                for (int i = 0; i < s.length(); i++) {
                    char c = s.charAt(i);
                    if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                        sb.append(Values.str(a.get(next++)));
                        i++;
                    } else {
                        sb.append(c);
                    }
                }
                return sb.toString();
            };
            default -> null;
        };
    }

    private static boolean anyAffix(Object affix, java.util.function.Predicate<String> test) {
        if (affix instanceof List<?> l) {
            for (Object o : l) if (test.test(Values.str(o))) return true;
            return false;
        }
        return test.test(Values.str(affix));
    }

    /** Python's str.strip([chars]): whitespace, or any of the given characters. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0, end = s.length();
        if (left) while (start < end && stripped(s.charAt(start), chars)) start++;
        if (right) while (end > start && stripped(s.charAt(end - 1), chars)) end--;
        return s.substring(start, end);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) || c == '\u001c' || c == '\u001d' || c == '\u001e' || c == '\u001f'
                : chars.indexOf(c) >= 0;
    }

    /** Python's str.split: on runs of whitespace without a separator, else on the separator exactly. */
    static List<Object> split(String s, String separator, long maxSplit) {
        List<Object> out = new ArrayList<>();
        if (separator == null) {
            int i = 0, n = s.length();
            while (i < n) {
                while (i < n && Character.isWhitespace(s.charAt(i))) i++;
                if (i >= n) break;
                if (maxSplit >= 0 && out.size() == maxSplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    return out;
                }
                int j = i;
                while (j < n && !Character.isWhitespace(s.charAt(j))) j++;
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (separator.isEmpty()) throw new TemplateException("empty separator");
        int at = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int i = s.indexOf(separator, at);
            if (i < 0) break;
            out.add(s.substring(at, i));
            at = i + separator.length();
        }
        out.add(s.substring(at));
        return out;
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    private static Function listMethod(List<?> list, String name) {
        List<Object> l = (List<Object>) list;
        return switch (name) {
            case "append" -> (a, k) -> {
                l.add(a.getFirst());
                return Values.NONE;
            };
            case "extend" -> (a, k) -> {
                l.addAll(Values.iterate(a.getFirst()));
                return Values.NONE;
            };
            case "pop" -> (a, k) -> {
                if (l.isEmpty()) throw new TemplateException("pop from empty list");
                long i = a.isEmpty() ? l.size() - 1 : Values.toLong(a.getFirst());
                if (i < 0) i += l.size();
                return l.remove((int) i);
            };
            case "insert" -> (a, k) -> {
                l.add((int) Math.min(l.size(), Math.max(0, Values.toLong(a.get(0)))), a.get(1));
                return Values.NONE;
            };
            case "index" -> (a, k) -> {
                for (int i = 0; i < l.size(); i++) if (Values.equal(l.get(i), a.getFirst())) return (long) i;
                throw new TemplateException(Values.repr(a.getFirst()) + " is not in list");
            };
            case "count" -> (a, k) -> l.stream().filter(o -> Values.equal(o, a.getFirst())).count();
            default -> null;
        };
    }

    @SuppressWarnings("unchecked")
    private static Function dictMethod(Map<?, ?> map, String name) {
        Map<Object, Object> m = (Map<Object, Object>) map;
        return switch (name) {
            case "items" -> (a, k) -> {
                List<Object> out = new ArrayList<>();
                m.forEach((key, v) -> out.add(new Values.Tuple(List.of(key, v))));
                return out;
            };
            case "keys" -> (a, k) -> new ArrayList<>(m.keySet());
            case "values" -> (a, k) -> new ArrayList<>(m.values());
            case "get" -> (a, k) -> m.containsKey(a.getFirst()) ? m.get(a.getFirst()) : a.size() > 1 ? a.get(1) : Values.NONE;
            case "pop" -> (a, k) -> {
                if (m.containsKey(a.getFirst())) return m.remove(a.getFirst());
                if (a.size() > 1) return a.get(1);
                throw new TemplateException("KeyError: " + Values.repr(a.getFirst()));
            };
            case "setdefault" -> (a, k) -> m.computeIfAbsent(a.getFirst(), key -> a.size() > 1 ? a.get(1) : Values.NONE);
            case "update" -> (a, k) -> {
                if (!a.isEmpty() && a.getFirst() instanceof Map<?, ?> other) m.putAll(other);
                m.putAll(k);
                return Values.NONE;
            };
            case "copy" -> (a, k) -> new LinkedHashMap<>(m);
            default -> null;
        };
    }

    // ---------------------------------------------------------------- operators

    Object binary(String op, Object a, Object b, int line) {
        if (op.equals("~")) return Values.str(a) + Values.str(b);
        if (a instanceof Undefined u) throw new TemplateException(line, "'" + u.name() + "' is undefined");
        if (b instanceof Undefined u) throw new TemplateException(line, "'" + u.name() + "' is undefined");
        switch (op) {
            case "+" -> {
                if (a instanceof String x && b instanceof String y) return x + y;
                if (a instanceof List<?> x && b instanceof List<?> y) {
                    List<Object> out = new ArrayList<>(x);
                    out.addAll(y);
                    return out;
                }
            }
            case "*" -> {
                if ((a instanceof String || a instanceof List<?>) && b instanceof Long n
                        && (double) n * (a instanceof String s ? s.length() : ((List<?>) a).size()) > MAX_ITEMS) {
                    throw new TemplateException("repeating " + Values.typeName(a) + " " + n + " times exceeds the limit of " + MAX_ITEMS);
                }
                if (a instanceof String s && b instanceof Long n) return s.repeat((int) Math.max(0, n));
                if (a instanceof List<?> l && b instanceof Long n) {
                    List<Object> out = new ArrayList<>();
                    for (long i = 0; i < n; i++) out.addAll(l);
                    return out;
                }
            }
            case "%" -> {
                if (a instanceof String s) return percentFormat(s, b);
            }
            default -> { }
        }
        if (!Values.isNumeric(a) || !Values.isNumeric(b)) {
            throw new TemplateException(line, "unsupported operand types for " + op + ": '" + Values.typeName(a) + "' and '" + Values.typeName(b) + "'");
        }
        boolean integers = !(a instanceof Double) && !(b instanceof Double);
        return switch (op) {
            case "+" -> integers ? (Object) (Values.toLong(a) + Values.toLong(b)) : (Object) (Values.toDouble(a) + Values.toDouble(b));
            case "-" -> integers ? (Object) (Values.toLong(a) - Values.toLong(b)) : (Object) (Values.toDouble(a) - Values.toDouble(b));
            case "*" -> integers ? (Object) (Values.toLong(a) * Values.toLong(b)) : (Object) (Values.toDouble(a) * Values.toDouble(b));
            case "/" -> {
                if (Values.toDouble(b) == 0) throw new TemplateException(line, "division by zero");
                yield Values.toDouble(a) / Values.toDouble(b);
            }
            case "//" -> {
                if (Values.toDouble(b) == 0) throw new TemplateException(line, "division by zero");
                yield integers ? (Object) Math.floorDiv(Values.toLong(a), Values.toLong(b)) : (Object) Math.floor(Values.toDouble(a) / Values.toDouble(b));
            }
            case "%" -> {
                if (Values.toDouble(b) == 0) throw new TemplateException(line, "modulo by zero");
                if (integers) yield Math.floorMod(Values.toLong(a), Values.toLong(b));
                double x = Values.toDouble(a), y = Values.toDouble(b);
                yield x - Math.floor(x / y) * y;
            }
            case "**" -> integers && Values.toLong(b) >= 0 ? (Object) (long) Math.pow(Values.toLong(a), Values.toLong(b))
                    : (Object) Math.pow(Values.toDouble(a), Values.toDouble(b));
            default -> throw new TemplateException(line, "unknown operator " + op);
        };
    }

    /** Python's printf-style str % value for %s, %d and %r. */
    private static String percentFormat(String format, Object value) {
        List<Object> args = value instanceof Values.Tuple t ? new ArrayList<>(t) : List.of(value);
        StringBuilder sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                sb.append(c);
                continue;
            }
            char d = format.charAt(++i);
            switch (d) {
                case '%' -> sb.append('%');
                case 's' -> sb.append(Values.str(args.get(next++)));
                case 'r' -> sb.append(Values.repr(args.get(next++)));
                case 'd', 'i' -> sb.append(Values.toLong(args.get(next++)));
                default -> sb.append('%').append(d);
            }
        }
        return sb.toString();
    }

    boolean compare(String op, Object a, Object b, int line) {
        return switch (op) {
            case "==" -> Values.equal(a, b);
            case "!=" -> !Values.equal(a, b);
            case "<" -> Values.compare(a, b) < 0;
            case "<=" -> Values.compare(a, b) <= 0;
            case ">" -> Values.compare(a, b) > 0;
            case ">=" -> Values.compare(a, b) >= 0;
            case "in" -> contains(b, a, line);
            case "not in" -> !contains(b, a, line);
            default -> throw new TemplateException(line, "unknown comparison " + op);
        };
    }

    private static boolean contains(Object container, Object item, int line) {
        return switch (container) {
            case String s -> {
                if (!(item instanceof String sub)) throw new TemplateException(line, "'in <string>' requires a string, not " + Values.typeName(item));
                yield s.contains(sub);
            }
            case List<?> l -> l.stream().anyMatch(o -> Values.equal(o, item));
            case Map<?, ?> m -> m.keySet().stream().anyMatch(k -> Values.equal(k, item));
            case Undefined u -> throw new TemplateException(line, "'" + u.name() + "' is undefined");
            default -> throw new TemplateException(line, "argument of type '" + Values.typeName(container) + "' is not iterable");
        };
    }

    // ---------------------------------------------------------------- filters

    Object filter(String name, Object value, List<Object> args, Map<String, Object> kw, int line) {
        Object arg0 = args.isEmpty() ? null : args.getFirst();
        return switch (name) {
            case "tojson" -> {
                Object indent = kw.containsKey("indent") ? kw.get("indent") : arg0;
                Object separators = kw.get("separators");
                String items = null, keys = null;
                if (separators instanceof List<?> sep && sep.size() == 2) {
                    items = Values.str(sep.get(0));
                    keys = Values.str(sep.get(1));
                }
                yield Values.json(value, indent == null || Values.isNone(indent) ? null : (int) Values.toLong(indent), items, keys,
                        Values.truthy(kw.getOrDefault("sort_keys", false)));
            }
            case "length", "count" -> switch (value) {
                case String s -> (long) s.codePointCount(0, s.length());
                case List<?> l -> (long) l.size();
                case Map<?, ?> m -> (long) m.size();
                case Undefined u -> 0L;
                default -> throw new TemplateException(line, "object of type '" + Values.typeName(value) + "' has no len()");
            };
            case "string" -> Values.str(value);
            case "trim" -> strip(Values.str(value), arg0 == null ? null : Values.str(arg0), true, true);
            case "upper" -> Values.str(value).toUpperCase(Locale.ROOT);
            case "lower" -> Values.str(value).toLowerCase(Locale.ROOT);
            case "title" -> title(Values.str(value));
            case "capitalize" -> {
                String s = Values.str(value);
                yield s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            }
            case "default", "d" -> {
                boolean boolMode = args.size() > 1 && Values.truthy(args.get(1)) || Values.truthy(kw.getOrDefault("boolean", false));
                boolean use = value instanceof Undefined || (boolMode && !Values.truthy(value));
                yield use ? (arg0 == null ? "" : arg0) : value;
            }
            case "join" -> {
                String sep = arg0 == null ? "" : Values.str(arg0);
                Object attribute = kw.get("attribute");
                StringBuilder sb = new StringBuilder();
                List<Object> items = Values.iterate(value);
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) sb.append(sep);
                    Object item = attribute == null ? items.get(i) : item(items.get(i), attribute, line);
                    sb.append(Values.str(item));
                }
                yield sb.toString();
            }
            case "first" -> {
                List<Object> items = Values.iterate(value);
                yield items.isEmpty() ? new Undefined("first") : items.getFirst();
            }
            case "last" -> {
                List<Object> items = Values.iterate(value);
                yield items.isEmpty() ? new Undefined("last") : items.getLast();
            }
            case "list" -> Values.iterate(value);
            case "reverse" -> {
                if (value instanceof String s) yield new StringBuilder(s).reverse().toString();
                List<Object> items = Values.iterate(value);
                Collections.reverse(items);
                yield items;
            }
            case "items" -> {
                if (!(value instanceof Map<?, ?> m)) yield List.of();
                List<Object> out = new ArrayList<>();
                m.forEach((k, v) -> out.add(new Values.Tuple(List.of(k, v))));
                yield out;
            }
            case "dictsort" -> {
                if (!(value instanceof Map<?, ?> m)) throw new TemplateException(line, "dictsort needs a dict");
                List<Object> out = new ArrayList<>();
                m.forEach((k, v) -> out.add(new Values.Tuple(List.of(k, v))));
                out.sort((x, y) -> Values.compare(((List<?>) x).get(0), ((List<?>) y).get(0)));
                yield out;
            }
            case "map" -> {
                List<Object> out = new ArrayList<>();
                for (Object item : Values.iterate(value)) {
                    if (kw.containsKey("attribute")) {
                        Object v = item(item, kw.get("attribute"), line);
                        out.add(v instanceof Undefined && kw.containsKey("default") ? kw.get("default") : v);
                    } else {
                        out.add(filter(Values.str(arg0), item, args.subList(1, args.size()), Map.of(), line));
                    }
                }
                yield out;
            }
            case "select", "reject" -> {
                List<Object> out = new ArrayList<>();
                for (Object item : Values.iterate(value)) {
                    boolean pass = arg0 == null ? Values.truthy(item) : test(Values.str(arg0), item, args.subList(1, args.size()), line);
                    if (pass == name.equals("select")) out.add(item);
                }
                yield out;
            }
            case "selectattr", "rejectattr" -> {
                List<Object> out = new ArrayList<>();
                for (Object item : Values.iterate(value)) {
                    Object attribute = item(item, arg0, line);
                    boolean pass = args.size() < 2 ? Values.truthy(attribute) : test(Values.str(args.get(1)), attribute, args.subList(2, args.size()), line);
                    if (pass == name.equals("selectattr")) out.add(item);
                }
                yield out;
            }
            case "unique" -> {
                List<Object> out = new ArrayList<>();
                for (Object item : Values.iterate(value)) if (out.stream().noneMatch(o -> Values.equal(o, item))) out.add(item);
                yield out;
            }
            case "sort" -> {
                List<Object> items = Values.iterate(value);
                boolean reverse = Values.truthy(kw.getOrDefault("reverse", false));
                Object attribute = kw.get("attribute");
                items.sort((x, y) -> Values.compare(attribute == null ? x : item(x, attribute, line), attribute == null ? y : item(y, attribute, line)));
                if (reverse) Collections.reverse(items);
                yield items;
            }
            case "sum" -> {
                Object total = 0L;
                for (Object item : Values.iterate(value)) total = binary("+", total, item, line);
                yield total;
            }
            case "safe", "e", "escape", "forceescape" -> name.equals("safe") ? value : htmlEscape(Values.str(value));
            case "int" -> {
                try {
                    yield value instanceof String s ? (Object) Long.parseLong(s.strip()) : (Object) Values.toLong(value);
                } catch (RuntimeException e) {
                    yield arg0 == null ? 0L : arg0;
                }
            }
            case "float" -> {
                try {
                    yield value instanceof String s ? Double.parseDouble(s.strip()) : Values.toDouble(value);
                } catch (RuntimeException e) {
                    yield arg0 == null ? 0.0 : arg0;
                }
            }
            case "abs" -> value instanceof Long l ? (Object) Math.abs(l) : (Object) Math.abs(Values.toDouble(value));
            case "round" -> {
                long digits = arg0 == null ? 0 : Values.toLong(arg0);
                double scale = Math.pow(10, digits);
                yield Math.rint(Values.toDouble(value) * scale) / scale;
            }
            case "replace" -> Values.str(value).replace(Values.str(args.get(0)), Values.str(args.get(1)));
            case "indent" -> {
                long width = arg0 == null ? 4 : Values.toLong(arg0);
                boolean first = args.size() > 1 ? Values.truthy(args.get(1)) : Values.truthy(kw.getOrDefault("first", false));
                String pad = " ".repeat((int) width);
                String[] lines = Values.str(value).split("\n", -1);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < lines.length; i++) {
                    if (i > 0) sb.append('\n');
                    if ((i > 0 || first) && !lines[i].isEmpty()) sb.append(pad);
                    sb.append(lines[i]);
                }
                yield sb.toString();
            }
            case "wordcount" -> (long) split(Values.str(value), null, -1).size();
            case "batch" -> {
                long size = Values.toLong(arg0);
                List<Object> out = new ArrayList<>();
                List<Object> current = new ArrayList<>();
                for (Object item : Values.iterate(value)) {
                    current.add(item);
                    if (current.size() == size) {
                        out.add(current);
                        current = new ArrayList<>();
                    }
                }
                if (!current.isEmpty()) out.add(current);
                yield out;
            }
            default -> throw new TemplateException(line, "no filter named '" + name + "'");
        };
    }

    private static String htmlEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;").replace("'", "&#39;");
    }

    // ---------------------------------------------------------------- tests

    boolean test(String name, Object value, List<Object> args, int line) {
        Object arg0 = args.isEmpty() ? null : args.getFirst();
        return switch (name) {
            case "defined" -> !(value instanceof Undefined);
            case "undefined" -> value instanceof Undefined;
            case "none" -> Values.isNone(value) && !(value instanceof Undefined);
            case "string" -> value instanceof String;
            case "number" -> (value instanceof Long || value instanceof Double);
            case "integer" -> value instanceof Long;
            case "float" -> value instanceof Double;
            case "boolean" -> value instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(value);
            case "false" -> Boolean.FALSE.equals(value);
            case "mapping" -> value instanceof Map || value instanceof Values.Namespace;
            case "iterable" -> value instanceof List || value instanceof Map || value instanceof String;
            case "sequence" -> value instanceof List || value instanceof String || value instanceof Map;
            case "callable" -> value instanceof Function;
            case "lower" -> value instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
            case "upper" -> value instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
            case "odd" -> Values.toLong(value) % 2 != 0;
            case "even" -> Values.toLong(value) % 2 == 0;
            case "divisibleby" -> Values.toLong(value) % Values.toLong(arg0) == 0;
            case "eq", "equalto", "==" -> Values.equal(value, arg0);
            case "ne", "!=" -> !Values.equal(value, arg0);
            case "lt", "lessthan", "<" -> Values.compare(value, arg0) < 0;
            case "le", "<=" -> Values.compare(value, arg0) <= 0;
            case "gt", "greaterthan", ">" -> Values.compare(value, arg0) > 0;
            case "ge", ">=" -> Values.compare(value, arg0) >= 0;
            case "in" -> compare("in", value, arg0, line);
            case "sameas" -> value == arg0 || (Values.isNone(value) && Values.isNone(arg0));
            default -> throw new TemplateException(line, "no test named '" + name + "'");
        };
    }
}
