package org.moescope.text.template;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.moescope.testkit.SharedFiles;

/** Every real chat template × every reference case: byte-identical to Python jinja2's render. */
class ReferenceRenderTest {
    static final LocalDateTime FIXED = LocalDateTime.of(2026, 1, 2, 3, 4, 5);

    static Stream<Arguments> cases() throws IOException {
        Path dir = SharedFiles.require("fixtures/chat-templates");
        JsonNode root = new ObjectMapper().readTree(dir.resolve("expected/cases.json").toFile());
        List<Arguments> out = new ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path template : files.filter(p -> p.toString().endsWith(".jinja")).sorted().toList()) {
                String name = template.getFileName().toString().replace(".jinja", "");
                for (var it = root.get("cases").fields(); it.hasNext(); ) {
                    var c = it.next();
                    Path expected = dir.resolve("expected/" + name + "." + c.getKey() + ".txt");
                    if (Files.exists(expected)) out.add(Arguments.of(name, c.getKey(), template, expected, c.getValue(), root.get("context")));
                }
            }
        }
        return out.stream();
    }

    @SuppressWarnings("unchecked")
    static Object plain(JsonNode node) {
        return new ObjectMapper().convertValue(node, Object.class);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    @SuppressWarnings("unchecked")
    void renderIsByteIdentical(String name, String caseName, Path template, Path expected, JsonNode c, JsonNode context) throws IOException {
        ChatTemplate t = ChatTemplate.compile(Files.readString(template, StandardCharsets.UTF_8)).withClock(() -> FIXED);
        Map<String, Object> variables = new LinkedHashMap<>((Map<String, Object>) plain(context));
        c.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("messages") && !e.getKey().equals("add_generation_prompt")) variables.put(e.getKey(), plain(e.getValue()));
        });
        List<Map<String, Object>> messages = (List<Map<String, Object>>) plain(c.get("messages"));
        String actual = t.render(messages, c.path("add_generation_prompt").asBoolean(false), variables);
        assertThat(actual).as("%s %s", name, caseName).isEqualTo(Files.readString(expected, StandardCharsets.UTF_8));
    }
}
