package org.moescope.text.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The jinja2 semantics chat templates depend on, each checked against what Python's jinja2 prints. */
class InterpreterTest {
    static String render(String template, Map<String, Object> variables) {
        return ChatTemplate.compile(template).render(variables);
    }

    static String render(String template) { return render(template, Map.of()); }

    @Test
    void whitespaceControlStripsAroundTags() {
        assertThat(render("a  {{- 'b' -}}  c")).isEqualTo("abc");
        assertThat(render("a\n  {%- if true %}b{% endif -%}\n  c")).isEqualTo("abc");
    }

    @Test
    void trimBlocksAndLstripBlocksAsHuggingFaceConfiguresThem() {
        // the block lines vanish entirely; output lines keep their own indentation
        assertThat(render("x\n    {% if true %}\n    y\n    {% endif %}\nz")).isEqualTo("x\n    y\nz");
        assertThat(render("{% if true %}  a{% endif %}")).isEqualTo("  a");
        assertThat(render("x {% if true %}y{% endif %}")).isEqualTo("x y"); // not at a line start: kept
        assertThat(render("line\n")).isEqualTo("line"); // keep_trailing_newline=False
        assertThat(render("a\n  {#- comment -#}\n  b")).isEqualTo("ab");
    }

    @Test
    void loopVariablesAndScoping() {
        assertThat(render("{% for x in ['a','b','c'] %}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.revindex }} {% endfor %}"))
                .isEqualTo("0TrueFalse3 1FalseFalse2 2FalseTrue1 ");
        assertThat(render("{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{% endfor %}{{ x }}")).isEqualTo("1");
        assertThat(render("{% set ns = namespace(x=1) %}{% for i in [1,2] %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}")).isEqualTo("4");
        assertThat(render("{% for i in [1,2,3,4] if i is even %}{{ i }}{% else %}none{% endfor %}")).isEqualTo("24");
        assertThat(render("{% for i in [] %}x{% else %}empty{% endfor %}")).isEqualTo("empty");
        assertThat(render("{% for i in [1,2,3] %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}"))
                .isEqualTo("1");
        assertThat(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}")).isEqualTo("a=1;b=2;");
    }

    @Test
    void pythonStringMethodsAndSlicing() {
        assertThat(render("{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nhi'.lstrip('\\n') }}|{{ 'a</think>b'.split('</think>')[-1] }}"))
                .isEqualTo("hi|hi|b");
        assertThat(render("{{ [1,2,3,4][::-1] }}{{ [1,2,3,4][1:3] }}{{ 'hello'[1:] }}")).isEqualTo("[4, 3, 2, 1][2, 3]ello");
        assertThat(render("{{ ' a  b '.split() }}{{ 'a,b,,c'.split(',') }}")).isEqualTo("['a', 'b']['a', 'b', '', 'c']");
        assertThat(render("{{ 'abc'.startswith(('x', 'a')) }}{{ 'Hello'.upper() }}{{ 'a-b'.replace('-', '+') }}")).isEqualTo("TrueHELLOa+b");
    }

    @Test
    void valuesPrintAsPythonPrintsThem() {
        assertThat(render("{{ none }} {{ true }} {{ 1.0 }} {{ 1e-05 * 1 }} {{ 7 // 2 }} {{ 7 / 2 }} {{ -7 % 3 }}"))
                .isEqualTo("None True 1.0 1e-05 3 3.5 2");
        assertThat(render("{{ {'a': [1, 'x', none, \"it's\"]} }}")).isEqualTo("{'a': [1, 'x', None, \"it's\"]}");
        assertThat(render("{{ undefined_thing }}|{{ (1, 2) }}")).isEqualTo("|(1, 2)");
    }

    @Test
    void tojsonAsHuggingFaceDefinesIt() {
        Map<String, Object> tool = Map.of("name", "f", "args", List.of(1, 2.5, true));
        assertThat(render("{{ t | tojson }}", Map.of("t", new java.util.TreeMap<>(tool))))
                .isEqualTo("{\"args\": [1, 2.5, true], \"name\": \"f\"}");
        assertThat(render("{{ 'ü\"<>' | tojson }}")).isEqualTo("\"ü\\\"<>\"");
        assertThat(render("{{ {'a': [1]} | tojson(indent=2) }}")).isEqualTo("{\n  \"a\": [\n    1\n  ]\n}");
    }

    @Test
    void testsFiltersAndMacros() {
        Map<String, Object> withNull = new java.util.HashMap<>();
        withNull.put("y", null);
        assertThat(render("{{ x is defined }}{{ y is none }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is mapping }}",
                withNull)).isEqualTo("FalseTrueTrueTrueTrueFalse");
        assertThat(render("{{ [3,1,2] | sort | join(',') }} {{ 'abc' | length }} {{ none | default('d') }} {{ x | default('d') }}"))
                .isEqualTo("1,2,3 3 None d");
        assertThat(render("{% macro greet(name, punct='!') %}hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', punct='?') }}"))
                .isEqualTo("hi a! hi b?");
        assertThat(render("{{ [{'t':'a'},{'t':'b'}] | selectattr('t', 'equalto', 'b') | map(attribute='t') | list }}")).isEqualTo("['b']");
    }

    @Test
    void errorsNameTheLineAndUndefinedUseFails() {
        assertThatThrownBy(() -> render("ok\n{{ raise_exception('bad role') }}")).hasMessageContaining("bad role");
        assertThatThrownBy(() -> render("a\nb\n{% if %}")).isInstanceOf(TemplateException.class).hasMessageContaining("line 3");
        assertThatThrownBy(() -> render("{{ missing.attr }}")).hasMessageContaining("'missing' is undefined");
        assertThatThrownBy(() -> render("{% for x in y %}")).hasMessageContaining("endfor");
    }

    @Test
    void strftimeUsesTheClock() {
        String out = ChatTemplate.compile("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d') }}")
                .withClock(() -> java.time.LocalDateTime.of(2026, 1, 2, 3, 4, 5)).render(Map.of());
        assertThat(out).isEqualTo("02 Jan 2026|2026-01-02");
    }
}
