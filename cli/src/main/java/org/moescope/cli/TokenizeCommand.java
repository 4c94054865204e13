package org.moescope.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.moescope.model.ModelFile;
import org.moescope.runtime.TextModel;
import org.moescope.text.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "tokenize", description = {"Show the token ids and pieces of a text, as the model's tokenizer splits it.",
        "Special tokens written in the text (<|im_start|>...) are recognised; the model's BOS rule applies."})
final class TokenizeCommand implements Callable<Integer> {
    @Mixin ModelOption model;

    static final class Input {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "the text") String text;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "read the text from a file (UTF-8)") Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Input input;

    @Option(names = "--chat", description = "wrap the text as a user message through the chat template") boolean chat;

    @Option(names = "--no-bos", description = "do not add the tokens the model's rule adds (BOS)") boolean noBos;

    @Option(names = "--json", description = "print JSON: {\"ids\": [...], \"pieces\": [...]}") boolean json;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        String text;
        if (input.file != null) {
            if (!Files.isRegularFile(input.file)) throw new UserException(input.file + ": no such file");
            text = Files.readString(input.file, StandardCharsets.UTF_8);
        } else {
            text = input.text;
        }
        try (ModelFile file = ModelFile.open(model.resolve())) {
            TextModel tm = TextModel.open(file);
            Tokenizer t = tm.tokenizer();
            int[] ids = chat ? tm.encodeUserMessage(null, text) : t.encode(text, !noBos, true);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                List<String> pieces = new ArrayList<>();
                for (int id : ids) pieces.add(t.piece(id));
                Map<String, Object> root = new LinkedHashMap<>();
                root.put("ids", ids);
                root.put("pieces", pieces);
                out.println(new ObjectMapper().writeValueAsString(root));
            } else {
                for (int id : ids) out.printf("%6d  %s%n", id, Values.show(t.piece(id)));
                out.printf("%d tokens%n", ids.length);
            }
        }
        return 0;
    }

    /** Makes whitespace visible. */
    static final class Values {
        static String show(String piece) {
            return "'" + piece.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'";
        }
    }
}
