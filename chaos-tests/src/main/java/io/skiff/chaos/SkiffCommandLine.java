package io.skiff.chaos;

import io.skiff.cli.SkiffCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@code skiff} commands in this JVM as an operator runs them, for nemeses that change the
 * cluster through the CLI's own code paths ({@code partition move}, {@code broker decommission}).
 * Immutable; thread-safe.
 *
 * @param bootstrap the brokers' Kafka addresses ({@code --bootstrap})
 * @param admin the brokers' admin HTTP addresses ({@code --admin})
 * @param timeout how long a command waits for the cluster ({@code --timeout})
 */
public record SkiffCommandLine(String bootstrap, String admin, Duration timeout) {

  /**
   * Runs {@code skiff <global options> args}; returns its standard output.
   *
   * @throws IOException when it exits non-zero (the message holds its output and errors)
   */
  public String run(String... args) throws IOException {
    final List<String> line = new ArrayList<>();
    line.addAll(
        List.of(
            "--bootstrap", bootstrap, "--admin", admin, "--timeout", timeout.toSeconds() + "s"));
    line.addAll(List.of(args));
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    final int exit =
        SkiffCli.run(new PrintWriter(out), new PrintWriter(err), line.toArray(String[]::new));
    if (exit != 0) {
      throw new IOException(
          "skiff " + String.join(" ", args) + " exited " + exit + ": " + out + err);
    }
    return out.toString();
  }
}
