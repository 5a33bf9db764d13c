package io.skiff.cli;

import java.io.PrintWriter;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * How a failed run is told: one line on stderr, {@code skiff <command>: <what was wrong>}, and the
 * exit code (2 for bad usage, 1 for an operation that failed). Stateless; thread-safe.
 */
final class ErrorReport {
  private ErrorReport() {}

  /** A command line that does not parse, or an argument a command refused: exit 2. */
  static int usage(ParameterException e, String[] args) {
    final CommandLine command = e.getCommandLine();
    final PrintWriter err = command.getErr();
    err.println(
        prefix(command) + e.getMessage() + " (see '" + qualifiedName(command) + " --help')");
    err.flush();
    return 2;
  }

  /** A command that failed while running: exit 1, or 2 when it refused its input. */
  static int failure(Exception e, CommandLine command, ParseResult parsed) {
    if (e instanceof ParameterException usage) {
      return usage(usage, new String[0]);
    }
    final PrintWriter err = command.getErr();
    err.println(prefix(command) + describe(e));
    err.flush();
    return 1;
  }

  /** The operator's reading of {@code e}: the innermost cause's message, named when useful. */
  static String describe(Throwable e) {
    Throwable cause = e;
    while ((cause instanceof ExecutionException || cause instanceof CompletionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TimeoutException
        || cause instanceof org.apache.kafka.common.errors.TimeoutException) {
      return "timed out ("
          + cause.getMessage()
          + "); are the brokers at --bootstrap up? --timeout waits longer";
    }
    final String message = cause.getMessage();
    if (cause instanceof CliException || cause instanceof IllegalArgumentException) {
      return message;
    }
    final String name = cause.getClass().getSimpleName();
    final String said = message == null || message.isBlank() ? name : name + ": " + message;
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == cause || root.getMessage() == null
        ? said
        : said + " (" + root.getMessage() + ")";
  }

  private static String prefix(CommandLine command) {
    return qualifiedName(command) + ": ";
  }

  private static String qualifiedName(CommandLine command) {
    return command.getCommandSpec().qualifiedName();
  }
}
