package dev.kawi.tools;

import dev.kawi.weights.WeightFileException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code kawi} command line. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input. */
@Command(name = "kawi", mixinStandardHelpOptions = true, version = "kawi 0.1.0",
        description = "A pure-Java CPU runtime and trainer for Transformer translation models.")
public final class Main implements Runnable {
    /** Exit code for success. */
    public static final int OK = 0;
    /** Exit code for a failure while running (I/O error, internal error). */
    public static final int FAILURE = 1;
    /** Exit code for bad usage or bad input (unknown flag, malformed model file, bad data). */
    public static final int BAD_INPUT = 2;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Entry point. */
    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** The subcommands, in the order the help lists them. */
    static final String[] COMMANDS = {"translate", "inspect", "quantize", "random-model", "learn-vocab", "train", "score", "serve",
        "attention", "bench", "help"};

    /** A new instance of a subcommand (a switch, not a table of lambdas: nothing to link at start-up). */
    private static Object command(String name) {
        return switch (name) {
            case "translate" -> new TranslateCommand();
            case "inspect" -> new InspectCommand();
            case "quantize" -> new QuantizeCommand();
            case "random-model" -> new RandomModelCommand();
            case "learn-vocab" -> new LearnVocabCommand();
            case "train" -> new TrainCommand();
            case "score" -> new ScoreCommand();
            case "serve" -> new dev.kawi.tools.serve.ServeCommand();
            case "attention" -> new AttentionCommand();
            case "bench" -> new BenchCommand();
            case "help" -> new CommandLine.HelpCommand();
            default -> throw new IllegalArgumentException("no command " + name);
        };
    }

    /**
     * The subcommand the arguments name when only it needs to be built: the first argument that is
     * not {@code --verbose}, when it is a command other than help; else null (build them all, for
     * help, usage errors and suggestions). Building one command instead of all of them is a large
     * part of start-up: picocli reflects over every option of every command it registers.
     */
    static String onlyCommand(String[] args) {
        for (String a : args) {
            if (a.equals("--verbose")) {
                continue;
            }
            for (String c : COMMANDS) {
                if (c.equals(a) && !c.equals("help")) {
                    return c;
                }
            }
            return null;
        }
        return null;
    }

    /** Runs the command line with the given streams and returns the exit code (used by tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Integer fast = TranslateCommand.runFast(args, out, err);
        if (fast != null) {
            out.flush();
            err.flush();
            return fast;
        }
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        String only = onlyCommand(args);
        for (String c : COMMANDS) {
            if (only == null || only.equals(c)) {
                cl.addSubcommand(c, command(c));
            }
        }
        cl.setOut(out);
        cl.setErr(err);
        // picocli already answers bad usage with 2 and uncaught failures with 1, in every subcommand.
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> report(commandLine.getErr(), commandLine.getCommandName(), e, main.verbose));
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** Reports a command's failure on one line (the stack trace too when verbose) and returns its exit code. */
    static int report(PrintWriter w, String command, Exception e, boolean verbose) {
        boolean badInput = e instanceof WeightFileException || e instanceof BadInputException;
        w.println("kawi " + command + ": error: " + oneLine(e));
        if (verbose) {
            e.printStackTrace(w);
        }
        w.flush();
        return badInput ? BAD_INPUT : FAILURE;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (e instanceof WeightFileException || e instanceof BadInputException) {
            return m;
        }
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m) + " (run with --verbose for details)";
    }
}
