package org.moescope.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moescope <command>}: the command-line entry point. Commands are thin; the work is in the modules. */
@Command(name = "moescope", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = Main.Version.class,
        description = {"Run Mixture-of-Experts language models on the CPU and look inside them:",
                "which experts each token uses, what happens when you switch them off."},
        footer = {"", "Environment:",
                "  MOESCOPE_PAGES=huge|advise|keep  weights in 2 MB pages. huge (default): a",
                "      file the page cache holds in small pages is dropped once and read back",
                "      in 2 MB ones; advise: only ask for them; keep: leave the mapping alone",
                "  MOESCOPE_JAVA_OPTS       extra JVM options for bin/moescope",
                "  MOESCOPE_BOUNDS_CHECKS=1 keep the Vector API's bounds checks (slower)",
                "  MOESCOPE_JAVA_HOME       the JDK 25 that bin/moescope runs on"},
        subcommands = {InspectCommand.class, TokenizeCommand.class, GenerateCommand.class, ChatCommand.class, TraceCommand.class, VectorCommand.class, StudyCommand.class, EvalCommand.class, LogitsCommand.class, BenchCommand.class, SynthCommand.class, ServeCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(new ErrorHandler());
        return cli;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"moescope " + (v == null ? "(development build)" : v)};
        }
    }

    /** Expected failures (bad files, bad arguments) print one clear line, not a stack trace. */
    static final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
            if (e instanceof org.moescope.format.FormatException || e instanceof UserException || e instanceof org.moescope.format.MappedPages.PolicyException
                    || e instanceof org.moescope.probe.profile.ProfileException || e instanceof org.moescope.probe.trace.TraceStore.TraceException
                    || e instanceof org.moescope.model.forward.Transformer.ContextFullException
                    || e instanceof org.moescope.text.template.TemplateException
                    || e instanceof java.io.UncheckedIOException || e instanceof java.nio.file.NoSuchFileException) {
                cli.getErr().println("moescope: " + e.getMessage());
                return 2;
            }
            cli.getErr().println("moescope: internal error: " + e);
            e.printStackTrace(cli.getErr());
            return 1;
        }
    }
}
