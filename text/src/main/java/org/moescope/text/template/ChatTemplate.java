package org.moescope.text.template;

import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A compiled chat template, rendered as Python's jinja2 renders it in HF transformers
 * (sandboxed semantics, trim_blocks, lstrip_blocks, loop controls, {@code tojson} without ASCII
 * escaping, {@code raise_exception}, {@code strftime_now}). Parse once, render many times; safe to
 * share between threads.
 */
public final class ChatTemplate {
    private final List<Ast.Node> template;
    private final Supplier<LocalDateTime> clock;

    private ChatTemplate(List<Ast.Node> template, Supplier<LocalDateTime> clock) {
        this.template = template;
        this.clock = clock;
    }

    public static ChatTemplate compile(String source) {
        return new ChatTemplate(Parser.parse(source), LocalDateTime::now);
    }

    /** The same template with a fixed clock for {@code strftime_now} (reproducible renders). */
    public ChatTemplate withClock(Supplier<LocalDateTime> clock) { return new ChatTemplate(template, clock); }

    /**
     * @param messages   JSON-like maps: role, content, and whatever else the template reads (tool_calls, reasoning_content...)
     * @param variables  bos_token, eos_token, enable_thinking, tools, ... passed to the template
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> variables) {
        Map<String, Object> context = new LinkedHashMap<>(variables);
        context.put("messages", messages);
        context.put("add_generation_prompt", addGenerationPrompt);
        return render(context);
    }

    /** Renders with any variables. */
    public String render(Map<String, Object> variables) {
        return new Interpreter(new Builtins(clock)).render(template, variables);
    }
}
