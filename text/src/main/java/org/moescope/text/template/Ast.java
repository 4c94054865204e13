package org.moescope.text.template;

import java.util.List;

/** The parsed template: statements (nodes) and expressions. */
final class Ast {
    private Ast() {}

    sealed interface Node permits Text, Print, If, For, Set, SetBlock, Macro, CallBlock, Break, Continue, Block, Do {}

    record Text(String text) implements Node {}

    record Print(Expr value, int line) implements Node {}

    record If(List<Expr> conditions, List<List<Node>> bodies, List<Node> otherwise) implements Node {}

    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise, int line) implements Node {}

    /** {@code set x = ...}, {@code set ns.attr = ...} (target object non-null), {@code set a, b = ...}. */
    record Set(List<String> names, Expr object, String attribute, Expr value, int line) implements Node {}

    record SetBlock(String name, List<Node> body) implements Node {}

    record Macro(String name, List<String> parameters, List<Expr> defaults, List<Node> body) implements Node {}

    record CallBlock(Expr call, List<Node> body) implements Node {}

    record Break() implements Node {}

    record Continue() implements Node {}

    /** A block whose tags have no effect here ({@code generation}, {@code filter} with no filters): renders its body. */
    record Block(List<Node> body) implements Node {}

    record Do(Expr expression) implements Node {}

    sealed interface Expr permits Literal, Name, ListLiteral, DictLiteral, Attribute, Item, Slice, Call, Filter, Test, Unary, Binary,
            Compare, Conditional, And, Or, Not {}

    record Literal(Object value) implements Expr {}

    record Name(String name, int line) implements Expr {}

    record ListLiteral(List<Expr> items, boolean tuple) implements Expr {}

    record DictLiteral(List<Expr> keys, List<Expr> values) implements Expr {}

    record Attribute(Expr object, String name, int line) implements Expr {}

    record Item(Expr object, Expr key, int line) implements Expr {}

    record Slice(Expr object, Expr start, Expr stop, Expr step) implements Expr {}

    record Call(Expr function, List<Expr> arguments, List<String> keywords, List<Expr> keywordValues, int line) implements Expr {}

    record Filter(Expr value, String name, List<Expr> arguments, List<String> keywords, List<Expr> keywordValues, int line) implements Expr {}

    record Test(Expr value, String name, List<Expr> arguments, boolean negated, int line) implements Expr {}

    record Unary(String operator, Expr operand) implements Expr {}

    record Binary(String operator, Expr left, Expr right, int line) implements Expr {}

    /** a op1 b op2 c ... with Python's chained semantics; ops include "in" and "not in". */
    record Compare(Expr first, List<String> operators, List<Expr> operands, int line) implements Expr {}

    record Conditional(Expr condition, Expr then, Expr otherwise) implements Expr {}

    record And(Expr left, Expr right) implements Expr {}

    record Or(Expr left, Expr right) implements Expr {}

    record Not(Expr operand) implements Expr {}
}
