package org.moescope.text.template;

import java.util.ArrayList;
import java.util.List;

import org.moescope.text.template.Lexer.Kind;
import org.moescope.text.template.Lexer.Token;

/** A recursive-descent parser for the jinja2 language, with jinja2's operator precedence. */
final class Parser {
    private final List<Token> tokens;
    private int at;

    private Parser(List<Token> tokens) { this.tokens = tokens; }

    static List<Ast.Node> parse(String template) {
        Parser p = new Parser(Lexer.tokenize(template));
        List<Ast.Node> body = p.nodes(List.of());
        if (p.peek().kind() != Kind.EOF) throw p.error("unexpected tag '" + p.peek().text() + "'");
        return body;
    }

    private Token peek() { return tokens.get(at); }

    private Token peek(int ahead) { return tokens.get(Math.min(at + ahead, tokens.size() - 1)); }

    private Token next() { return tokens.get(at++); }

    private TemplateException error(String message) { return new TemplateException(peek().line(), message); }

    private boolean isOperator(String op) { return peek().is(Kind.OPERATOR, op); }

    private boolean isName(String name) { return peek().is(Kind.NAME, name); }

    private void expectOperator(String op) {
        if (!isOperator(op)) throw error("expected '" + op + "' but found '" + peek().text() + "'");
        at++;
    }

    private String expectName() {
        if (peek().kind() != Kind.NAME) throw error("expected a name but found '" + peek().text() + "'");
        return next().text();
    }

    private void expectBlockEnd() {
        if (peek().kind() != Kind.BLOCK_END) throw error("expected end of tag but found '" + peek().text() + "'");
        at++;
    }

    /** Statements until one of {@code ends} block tags (left unconsumed) or the end. */
    private List<Ast.Node> nodes(List<String> ends) {
        List<Ast.Node> out = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.kind()) {
                case EOF -> {
                    if (!ends.isEmpty()) throw error("missing " + String.join(" or ", ends));
                    return out;
                }
                case TEXT -> {
                    at++;
                    out.add(new Ast.Text(t.text()));
                }
                case PRINT_BEGIN -> {
                    at++;
                    Ast.Expr e = expression();
                    if (peek().kind() != Kind.PRINT_END) throw error("expected '}}' but found '" + peek().text() + "'");
                    at++;
                    out.add(new Ast.Print(e, t.line()));
                }
                case BLOCK_BEGIN -> {
                    String keyword = peek(1).text();
                    if (ends.contains(keyword)) return out;
                    at += 2;
                    out.add(statement(keyword, t.line()));
                }
                default -> throw error("unexpected '" + t.text() + "'");
            }
        }
    }

    private Ast.Node statement(String keyword, int line) {
        switch (keyword) {
            case "if" -> {
                List<Ast.Expr> conditions = new ArrayList<>();
                List<List<Ast.Node>> bodies = new ArrayList<>();
                conditions.add(expression());
                expectBlockEnd();
                bodies.add(nodes(List.of("elif", "else", "endif")));
                List<Ast.Node> otherwise = List.of();
                while (true) {
                    at++; // {%
                    String k = next().text();
                    if (k.equals("elif")) {
                        conditions.add(expression());
                        expectBlockEnd();
                        bodies.add(nodes(List.of("elif", "else", "endif")));
                    } else if (k.equals("else")) {
                        expectBlockEnd();
                        otherwise = nodes(List.of("endif"));
                    } else {
                        expectBlockEnd();
                        return new Ast.If(conditions, bodies, otherwise);
                    }
                }
            }
            case "for" -> {
                List<String> targets = new ArrayList<>();
                boolean parenthesised = isOperator("(");
                if (parenthesised) at++;
                targets.add(expectName());
                while (isOperator(",")) {
                    at++;
                    targets.add(expectName());
                }
                if (parenthesised) expectOperator(")");
                if (!isName("in")) throw error("expected 'in' in for loop");
                at++;
                Ast.Expr iterable = conditionless();
                Ast.Expr filter = null;
                if (isName("if")) {
                    at++;
                    filter = expression();
                }
                if (isName("recursive")) throw error("recursive loops are not supported");
                expectBlockEnd();
                List<Ast.Node> body = nodes(List.of("else", "endfor"));
                List<Ast.Node> otherwise = List.of();
                at++;
                if (next().text().equals("else")) {
                    expectBlockEnd();
                    otherwise = nodes(List.of("endfor"));
                    at += 2;
                }
                expectBlockEnd();
                return new Ast.For(targets, iterable, filter, body, otherwise, line);
            }
            case "set" -> {
                String name = expectName();
                if (isOperator(".")) {
                    at++;
                    String attribute = expectName();
                    expectOperator("=");
                    Ast.Expr value = expression();
                    expectBlockEnd();
                    return new Ast.Set(List.of(), new Ast.Name(name, line), attribute, value, line);
                }
                List<String> names = new ArrayList<>(List.of(name));
                while (isOperator(",")) {
                    at++;
                    names.add(expectName());
                }
                if (peek().kind() == Kind.BLOCK_END) {
                    at++;
                    List<Ast.Node> body = nodes(List.of("endset"));
                    at += 2;
                    expectBlockEnd();
                    return new Ast.SetBlock(name, body);
                }
                expectOperator("=");
                Ast.Expr value = tupleOrExpression();
                expectBlockEnd();
                return new Ast.Set(names, null, null, value, line);
            }
            case "macro" -> {
                String name = expectName();
                expectOperator("(");
                List<String> parameters = new ArrayList<>();
                List<Ast.Expr> defaults = new ArrayList<>();
                while (!isOperator(")")) {
                    parameters.add(expectName());
                    if (isOperator("=")) {
                        at++;
                        defaults.add(expression());
                    } else {
                        defaults.add(null);
                    }
                    if (isOperator(",")) at++;
                }
                at++;
                expectBlockEnd();
                List<Ast.Node> body = nodes(List.of("endmacro"));
                at += 2;
                expectBlockEnd();
                return new Ast.Macro(name, parameters, defaults, body);
            }
            case "call" -> {
                if (isOperator("(")) throw error("call blocks with caller arguments are not supported");
                Ast.Expr call = expression();
                expectBlockEnd();
                List<Ast.Node> body = nodes(List.of("endcall"));
                at += 2;
                expectBlockEnd();
                return new Ast.CallBlock(call, body);
            }
            case "break" -> {
                expectBlockEnd();
                return new Ast.Break();
            }
            case "continue" -> {
                expectBlockEnd();
                return new Ast.Continue();
            }
            case "do" -> {
                Ast.Expr e = expression();
                expectBlockEnd();
                return new Ast.Do(e);
            }
            case "generation", "filter" -> {
                // HF's {% generation %} marks assistant text for masks; it renders its body unchanged
                while (peek().kind() != Kind.BLOCK_END) at++;
                at++;
                String end = "end" + keyword;
                List<Ast.Node> body = nodes(List.of(end));
                at += 2;
                expectBlockEnd();
                return new Ast.Block(body);
            }
            default -> throw new TemplateException(line, "unknown tag '" + keyword + "'");
        }
    }

    // ---------------------------------------------------------------- expressions

    private Ast.Expr tupleOrExpression() {
        Ast.Expr first = expression();
        if (!isOperator(",")) return first;
        List<Ast.Expr> items = new ArrayList<>(List.of(first));
        while (isOperator(",")) {
            at++;
            items.add(expression());
        }
        return new Ast.ListLiteral(items, true);
    }

    Ast.Expr expression() {
        Ast.Expr value = or();
        if (isName("if")) {
            at++;
            Ast.Expr condition = or();
            Ast.Expr otherwise = null;
            if (isName("else")) {
                at++;
                otherwise = expression();
            }
            return new Ast.Conditional(condition, value, otherwise);
        }
        return value;
    }

    /** An expression without a trailing {@code if}: the iterable of a for loop, whose {@code if} filters. */
    private Ast.Expr conditionless() { return or(); }

    private Ast.Expr or() {
        Ast.Expr left = and();
        while (isName("or")) {
            at++;
            left = new Ast.Or(left, and());
        }
        return left;
    }

    private Ast.Expr and() {
        Ast.Expr left = not();
        while (isName("and")) {
            at++;
            left = new Ast.And(left, not());
        }
        return left;
    }

    private Ast.Expr not() {
        if (isName("not")) {
            at++;
            return new Ast.Not(not());
        }
        return compare();
    }

    private Ast.Expr compare() {
        int line = peek().line();
        Ast.Expr first = math1();
        List<String> operators = new ArrayList<>();
        List<Ast.Expr> operands = new ArrayList<>();
        while (true) {
            Token t = peek();
            String op = null;
            if (t.kind() == Kind.OPERATOR && List.of("==", "!=", "<", "<=", ">", ">=").contains(t.text())) {
                op = t.text();
                at++;
            } else if (t.is(Kind.NAME, "in")) {
                op = "in";
                at++;
            } else if (t.is(Kind.NAME, "not") && peek(1).is(Kind.NAME, "in")) {
                op = "not in";
                at += 2;
            }
            if (op == null) break;
            operators.add(op);
            operands.add(math1());
        }
        return operators.isEmpty() ? first : new Ast.Compare(first, operators, operands, line);
    }

    private Ast.Expr math1() {
        Ast.Expr left = concat();
        while (isOperator("+") || isOperator("-")) {
            Token op = next();
            left = new Ast.Binary(op.text(), left, concat(), op.line());
        }
        return left;
    }

    private Ast.Expr concat() {
        Ast.Expr left = math2();
        while (isOperator("~")) {
            Token op = next();
            left = new Ast.Binary("~", left, math2(), op.line());
        }
        return left;
    }

    private Ast.Expr math2() {
        Ast.Expr left = pow();
        while (isOperator("*") || isOperator("/") || isOperator("//") || isOperator("%")) {
            Token op = next();
            left = new Ast.Binary(op.text(), left, pow(), op.line());
        }
        return left;
    }

    private Ast.Expr pow() {
        Ast.Expr left = unary();
        while (isOperator("**")) {
            Token op = next();
            left = new Ast.Binary("**", left, unary(), op.line());
        }
        return left;
    }

    private Ast.Expr unary() {
        if (isOperator("-") || isOperator("+")) {
            String op = next().text();
            return filters(new Ast.Unary(op, unary()));
        }
        return filters(postfix(primary()));
    }

    private Ast.Expr primary() {
        Token t = next();
        switch (t.kind()) {
            case STRING -> {
                StringBuilder sb = new StringBuilder(t.text());
                while (peek().kind() == Kind.STRING) sb.append(next().text()); // adjacent literals join
                return new Ast.Literal(sb.toString());
            }
            case INTEGER -> {
                try {
                    return new Ast.Literal(Long.parseLong(t.text()));
                } catch (NumberFormatException e) {
                    throw new TemplateException(t.line(), "integer " + t.text() + " is too large");
                }
            }
            case FLOAT -> {
                return new Ast.Literal(Double.parseDouble(t.text()));
            }
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Ast.Literal(Boolean.TRUE);
                    case "false", "False" -> new Ast.Literal(Boolean.FALSE);
                    case "none", "None" -> new Ast.Literal(Values.NONE);
                    default -> new Ast.Name(t.text(), t.line());
                };
            }
            case OPERATOR -> {
                switch (t.text()) {
                    case "(" -> {
                        if (isOperator(")")) {
                            at++;
                            return new Ast.ListLiteral(List.of(), true);
                        }
                        Ast.Expr e = expression();
                        if (isOperator(",")) {
                            List<Ast.Expr> items = new ArrayList<>(List.of(e));
                            while (isOperator(",")) {
                                at++;
                                if (isOperator(")")) break;
                                items.add(expression());
                            }
                            expectOperator(")");
                            return new Ast.ListLiteral(items, true);
                        }
                        expectOperator(")");
                        return e;
                    }
                    case "[" -> {
                        List<Ast.Expr> items = new ArrayList<>();
                        while (!isOperator("]")) {
                            items.add(expression());
                            if (!isOperator("]")) expectOperator(",");
                        }
                        at++;
                        return new Ast.ListLiteral(items, false);
                    }
                    case "{" -> {
                        List<Ast.Expr> keys = new ArrayList<>(), values = new ArrayList<>();
                        while (!isOperator("}")) {
                            keys.add(expression());
                            expectOperator(":");
                            values.add(expression());
                            if (!isOperator("}")) expectOperator(",");
                        }
                        at++;
                        return new Ast.DictLiteral(keys, values);
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        throw new TemplateException(t.line(), "unexpected '" + t.text() + "'");
    }

    private Ast.Expr postfix(Ast.Expr e) {
        while (true) {
            if (isOperator(".")) {
                at++;
                Token name = next();
                if (name.kind() != Kind.NAME && name.kind() != Kind.INTEGER) throw error("expected an attribute name");
                e = new Ast.Attribute(e, name.text(), name.line());
            } else if (isOperator("[")) {
                int line = next().line();
                Ast.Expr start = null, stop = null, step = null;
                boolean slice = false;
                if (!isOperator(":")) start = expression();
                if (isOperator(":")) {
                    slice = true;
                    at++;
                    if (!isOperator("]") && !isOperator(":")) stop = expression();
                    if (isOperator(":")) {
                        at++;
                        if (!isOperator("]")) step = expression();
                    }
                }
                expectOperator("]");
                e = slice ? new Ast.Slice(e, start, stop, step) : new Ast.Item(e, start, line);
            } else if (isOperator("(")) {
                int line = next().line();
                List<Ast.Expr> arguments = new ArrayList<>();
                List<String> keywords = new ArrayList<>();
                List<Ast.Expr> keywordValues = new ArrayList<>();
                arguments(arguments, keywords, keywordValues);
                e = new Ast.Call(e, arguments, keywords, keywordValues, line);
            } else {
                return e;
            }
        }
    }

    /** Arguments up to and including ')'. */
    private void arguments(List<Ast.Expr> arguments, List<String> keywords, List<Ast.Expr> keywordValues) {
        while (!isOperator(")")) {
            if (peek().kind() == Kind.NAME && peek(1).is(Kind.OPERATOR, "=")) {
                keywords.add(next().text());
                at++;
                keywordValues.add(expression());
            } else {
                arguments.add(expression());
            }
            if (!isOperator(")")) expectOperator(",");
        }
        at++;
    }

    private Ast.Expr filters(Ast.Expr e) {
        while (true) {
            if (isOperator("|")) {
                at++;
                Token name = next();
                if (name.kind() != Kind.NAME) throw error("expected a filter name");
                String filterName = name.text();
                while (isOperator(".")) { // dotted filter names are not used by chat templates
                    at++;
                    filterName += "." + expectName();
                }
                List<Ast.Expr> arguments = new ArrayList<>();
                List<String> keywords = new ArrayList<>();
                List<Ast.Expr> keywordValues = new ArrayList<>();
                if (isOperator("(")) {
                    at++;
                    arguments(arguments, keywords, keywordValues);
                }
                e = new Ast.Filter(e, filterName, arguments, keywords, keywordValues, name.line());
            } else if (isName("is")) {
                int line = next().line();
                boolean negated = false;
                if (isName("not")) {
                    at++;
                    negated = true;
                }
                Token name = next();
                String testName = name.text();
                if (name.kind() != Kind.NAME && !(name.kind() == Kind.OPERATOR && List.of("==", "!=", "<", ">", "<=", ">=").contains(testName))) {
                    throw error("expected a test name after 'is'");
                }
                List<Ast.Expr> arguments = new ArrayList<>();
                if (isOperator("(")) {
                    at++;
                    arguments(arguments, new ArrayList<>(), new ArrayList<>());
                } else if (startsPrimary() && !isName("and") && !isName("or") && !isName("else") && !isName("if") && !isName("in")
                        && !isName("not") && !isName("is")) {
                    arguments.add(postfix(primary())); // "is divisibleby 3", "is sameas none"
                }
                e = new Ast.Test(e, testName, arguments, negated, line);
            } else {
                return e;
            }
        }
    }

    private boolean startsPrimary() {
        Token t = peek();
        return switch (t.kind()) {
            case STRING, INTEGER, FLOAT, NAME -> true;
            case OPERATOR -> t.text().equals("[") || t.text().equals("{");
            default -> false;
        };
    }
}
