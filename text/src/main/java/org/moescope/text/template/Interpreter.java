package org.moescope.text.template;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.moescope.text.template.Values.Undefined;

/** Renders a parsed template: statements, scoping as jinja2 (loops and macros scope their sets), expressions. */
final class Interpreter {
    /** Variables of one scope; lookups fall back to the parent. */
    static final class Scope {
        final Scope parent;
        final Map<String, Object> variables = new HashMap<>();

        Scope(Scope parent) { this.parent = parent; }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.variables.containsKey(name)) return s.variables.get(name);
            }
            return null;
        }

        void set(String name, Object value) { variables.put(name, value); }
    }

    private static final class BreakSignal extends RuntimeException {
        BreakSignal() { super(null, null, false, false); }
    }

    private static final class ContinueSignal extends RuntimeException {
        ContinueSignal() { super(null, null, false, false); }
    }

    /** A template comes from a model file, so it is untrusted: it gets a budget of work, output and macro depth. */
    static final long MAX_STEPS = 20_000_000;
    static final int MAX_OUTPUT = 16 << 20;
    static final int MAX_DEPTH = 200;

    private final Builtins builtins;
    private long steps;
    private int depth;

    Interpreter(Builtins builtins) { this.builtins = builtins; }

    private void step(StringBuilder out) {
        if (++steps > MAX_STEPS) throw new TemplateException("the template ran more than " + MAX_STEPS + " steps: stopped");
        if (out.length() > MAX_OUTPUT) throw new TemplateException("the template's output exceeds " + MAX_OUTPUT + " characters: stopped");
    }

    String render(List<Ast.Node> template, Map<String, Object> variables) {
        Scope root = new Scope(null);
        builtins.globals().forEach(root::set);
        variables.forEach((k, v) -> root.set(k, Values.fromJava(v)));
        StringBuilder out = new StringBuilder();
        try {
            execute(template, root, out);
        } catch (BreakSignal | ContinueSignal e) {
            throw new TemplateException("'break' or 'continue' outside a loop");
        }
        return out.toString();
    }

    void execute(List<Ast.Node> nodes, Scope scope, StringBuilder out) {
        for (Ast.Node node : nodes) execute(node, scope, out);
    }

    private void execute(Ast.Node node, Scope scope, StringBuilder out) {
        step(out);
        switch (node) {
            case Ast.Text t -> out.append(t.text());
            case Ast.Print p -> out.append(Values.str(evaluate(p.value(), scope)));
            case Ast.If i -> {
                for (int k = 0; k < i.conditions().size(); k++) {
                    if (Values.truthy(evaluate(i.conditions().get(k), scope))) {
                        execute(i.bodies().get(k), scope, out);
                        return;
                    }
                }
                execute(i.otherwise(), scope, out);
            }
            case Ast.For f -> loop(f, scope, out);
            case Ast.Set s -> {
                Object value = evaluate(s.value(), scope);
                if (s.object() != null) {
                    Object target = evaluate(s.object(), scope);
                    if (!(target instanceof Values.Namespace ns)) {
                        throw new TemplateException(s.line(), "can only set attributes of a namespace(), not of " + Values.typeName(target));
                    }
                    ns.attributes.put(s.attribute(), value);
                } else if (s.names().size() == 1) {
                    scope.set(s.names().getFirst(), value);
                } else {
                    List<Object> parts = Values.iterate(value);
                    if (parts.size() != s.names().size()) throw new TemplateException(s.line(), "cannot unpack " + parts.size() + " values into " + s.names().size());
                    for (int k = 0; k < parts.size(); k++) scope.set(s.names().get(k), parts.get(k));
                }
            }
            case Ast.SetBlock s -> {
                StringBuilder captured = new StringBuilder();
                execute(s.body(), scope, captured);
                scope.set(s.name(), captured.toString());
            }
            case Ast.Macro m -> scope.set(m.name(), macro(m, scope));
            case Ast.CallBlock c -> {
                Scope inner = new Scope(scope);
                inner.set("caller", (Values.Function) (args, kwargs) -> {
                    StringBuilder body = new StringBuilder();
                    execute(c.body(), new Scope(scope), body);
                    return body.toString();
                });
                out.append(Values.str(evaluate(c.call(), inner)));
            }
            case Ast.Break b -> throw new BreakSignal();
            case Ast.Continue c -> throw new ContinueSignal();
            case Ast.Block b -> execute(b.body(), scope, out);
            case Ast.Do d -> evaluate(d.expression(), scope);
        }
    }

    private void loop(Ast.For f, Scope scope, StringBuilder out) {
        Object iterable = evaluate(f.iterable(), scope);
        List<Object> items = Values.iterate(iterable);
        if (f.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Scope probe = new Scope(scope);
                bind(f, probe, item);
                if (Values.truthy(evaluate(f.filter(), probe))) kept.add(item);
            }
            items = kept;
        }
        if (items.isEmpty()) {
            execute(f.otherwise(), scope, out);
            return;
        }
        Scope inner = new Scope(scope);
        for (int index = 0; index < items.size(); index++) {
            bind(f, inner, items.get(index));
            inner.set("loop", new Loop(items, index));
            try {
                execute(f.body(), inner, out);
            } catch (ContinueSignal c) {
                // next item
            } catch (BreakSignal b) {
                break;
            }
        }
    }

    private static void bind(Ast.For f, Scope scope, Object item) {
        if (f.targets().size() == 1) {
            scope.set(f.targets().getFirst(), item);
            return;
        }
        List<Object> parts = Values.iterate(item);
        if (parts.size() != f.targets().size()) {
            throw new TemplateException(f.line(), "cannot unpack " + parts.size() + " values into " + f.targets().size() + " loop variables");
        }
        for (int k = 0; k < parts.size(); k++) scope.set(f.targets().get(k), parts.get(k));
    }

    /** jinja2's loop variable. */
    record Loop(List<Object> items, int index) {
        Object attribute(String name) {
            int n = items.size();
            return switch (name) {
                case "index" -> (long) index + 1;
                case "index0" -> (long) index;
                case "revindex" -> (long) (n - index);
                case "revindex0" -> (long) (n - index - 1);
                case "first" -> index == 0;
                case "last" -> index == n - 1;
                case "length" -> (long) n;
                case "previtem" -> index > 0 ? items.get(index - 1) : new Undefined("loop.previtem");
                case "nextitem" -> index < n - 1 ? items.get(index + 1) : new Undefined("loop.nextitem");
                case "depth" -> 1L;
                case "depth0" -> 0L;
                case "cycle" -> (Values.Function) (args, kw) -> args.isEmpty() ? Values.NONE : args.get(index % args.size());
                default -> new Undefined("loop." + name);
            };
        }
    }

    private Values.Function macro(Ast.Macro m, Scope defining) {
        return (arguments, keywords) -> {
            Scope inner = new Scope(defining);
            List<Object> extra = new ArrayList<>();
            for (int k = 0; k < m.parameters().size(); k++) {
                String p = m.parameters().get(k);
                Object value;
                if (k < arguments.size()) value = arguments.get(k);
                else if (keywords.containsKey(p)) value = keywords.get(p);
                else if (m.defaults().get(k) != null) value = evaluate(m.defaults().get(k), inner);
                else value = new Undefined(p);
                inner.set(p, value);
            }
            for (int k = m.parameters().size(); k < arguments.size(); k++) extra.add(arguments.get(k));
            inner.set("varargs", extra);
            Map<Object, Object> kwargs = new LinkedHashMap<>();
            keywords.forEach((k, v) -> { if (!m.parameters().contains(k)) kwargs.put(k, v); });
            inner.set("kwargs", kwargs);
            StringBuilder out = new StringBuilder();
            if (++depth > MAX_DEPTH) throw new TemplateException("macro calls nest deeper than " + MAX_DEPTH + ": stopped");
            try {
                execute(m.body(), inner, out);
            } catch (BreakSignal | ContinueSignal e) {
                throw new TemplateException("'break' or 'continue' outside a loop (in macro " + m.name() + ")");
            } finally {
                depth--;
            }
            return out.toString();
        };
    }

    // ---------------------------------------------------------------- expressions

    /**
     * A builtin's failure on bad arguments (a missing one, a wrong type) is where Python raises
     * TypeError or ValueError: the template's error, reported at its line.
     */
    private static Object guarded(int line, java.util.function.Supplier<Object> call) {
        try {
            return call.get();
        } catch (TemplateException | BreakSignal | ContinueSignal e) {
            throw e;
        } catch (IndexOutOfBoundsException | java.util.NoSuchElementException | ClassCastException | ArithmeticException
                 | IllegalArgumentException | NullPointerException e) {
            throw new TemplateException(line, "bad call (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
    }

    /** Never Java null: a value that comes out null (a Java map's missing value, say) is None. */
    Object evaluate(Ast.Expr e, Scope scope) {
        Object v = evaluateOnce(e, scope);
        return v == null ? Values.NONE : v;
    }

    private Object evaluateOnce(Ast.Expr e, Scope scope) {
        return switch (e) {
            case Ast.Literal l -> l.value();
            case Ast.Name n -> {
                Object v = scope.lookup(n.name());
                yield v == null ? new Undefined(n.name()) : v;
            }
            case Ast.ListLiteral l -> {
                List<Object> items = new ArrayList<>();
                for (Ast.Expr item : l.items()) items.add(evaluate(item, scope));
                yield l.tuple() ? new Values.Tuple(items) : items;
            }
            case Ast.DictLiteral d -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int k = 0; k < d.keys().size(); k++) map.put(evaluate(d.keys().get(k), scope), evaluate(d.values().get(k), scope));
                yield map;
            }
            case Ast.Attribute a -> builtins.attribute(evaluate(a.object(), scope), a.name(), a.line());
            case Ast.Item i -> builtins.item(evaluate(i.object(), scope), evaluate(i.key(), scope), i.line());
            case Ast.Slice s -> builtins.slice(evaluate(s.object(), scope), value(s.start(), scope), value(s.stop(), scope), value(s.step(), scope));
            case Ast.Call c -> {
                Object f = evaluate(c.function(), scope);
                if (f instanceof Undefined u) throw new TemplateException(c.line(), "'" + u.name() + "' is undefined");
                if (!(f instanceof Values.Function function)) throw new TemplateException(c.line(), "'" + Values.typeName(f) + "' object is not callable");
                List<Object> arguments = values(c.arguments(), scope);
                Map<String, Object> keywords = keywords(c.keywords(), c.keywordValues(), scope);
                yield guarded(c.line(), () -> function.call(arguments, keywords));
            }
            case Ast.Filter f -> {
                Object value = evaluate(f.value(), scope);
                List<Object> arguments = values(f.arguments(), scope);
                Map<String, Object> keywords = keywords(f.keywords(), f.keywordValues(), scope);
                yield guarded(f.line(), () -> builtins.filter(f.name(), value, arguments, keywords, f.line()));
            }
            case Ast.Test t -> {
                Object value = evaluate(t.value(), scope);
                List<Object> arguments = values(t.arguments(), scope);
                boolean result = (Boolean) guarded(t.line(), () -> builtins.test(t.name(), value, arguments, t.line()));
                yield t.negated() != result;
            }
            case Ast.Unary u -> {
                Object v = evaluate(u.operand(), scope);
                if (u.operator().equals("+")) yield v;
                yield v instanceof Long l ? (Object) (-l) : (Object) (-Values.toDouble(v));
            }
            case Ast.Binary b -> builtins.binary(b.operator(), evaluate(b.left(), scope), evaluate(b.right(), scope), b.line());
            case Ast.Compare c -> {
                Object left = evaluate(c.first(), scope);
                for (int k = 0; k < c.operators().size(); k++) {
                    Object right = evaluate(c.operands().get(k), scope);
                    if (!builtins.compare(c.operators().get(k), left, right, c.line())) yield false;
                    left = right;
                }
                yield true;
            }
            case Ast.Conditional c -> Values.truthy(evaluate(c.condition(), scope)) ? evaluate(c.then(), scope)
                    : c.otherwise() == null ? new Undefined("(if without else)") : evaluate(c.otherwise(), scope);
            case Ast.And a -> {
                Object left = evaluate(a.left(), scope);
                yield Values.truthy(left) ? evaluate(a.right(), scope) : left;
            }
            case Ast.Or o -> {
                Object left = evaluate(o.left(), scope);
                yield Values.truthy(left) ? left : evaluate(o.right(), scope);
            }
            case Ast.Not n -> !Values.truthy(evaluate(n.operand(), scope));
        };
    }

    private Object value(Ast.Expr e, Scope scope) { return e == null ? null : evaluate(e, scope); }

    private List<Object> values(List<Ast.Expr> exprs, Scope scope) {
        List<Object> out = new ArrayList<>(exprs.size());
        for (Ast.Expr e : exprs) out.add(evaluate(e, scope));
        return out;
    }

    private Map<String, Object> keywords(List<String> names, List<Ast.Expr> exprs, Scope scope) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int k = 0; k < names.size(); k++) out.put(names.get(k), evaluate(exprs.get(k), scope));
        return out;
    }
}
