package io.skiff.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code skiff} admin command. Each subcommand talks to brokers over the network only: their
 * admin HTTP port (JSON under {@code /v1/}) or their Kafka port.
 */
@Command(
    name = "skiff",
    mixinStandardHelpOptions = true,
    version = "skiff 0.1.0",
    description = "Operate a Skiff cluster.",
    footer = {
      "",
      "The ./skiff launcher also runs brokers: ./skiff dev (a local 3-broker cluster),",
      "./skiff broker --config FILE (one broker)."
    },
    subcommands = {MemoryCommand.class, VerifyCommand.class, CommandLine.HelpCommand.class})
public final class SkiffCli {
  private SkiffCli() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line; returns the exit code (0 ok, 1 failure, 2 usage error). */
  static int run(String... args) {
    return new CommandLine(new SkiffCli()).execute(args);
  }

  /** Runs the command line with its output going to {@code out} and {@code err}. */
  static int run(PrintWriter out, PrintWriter err, String... args) {
    return new CommandLine(new SkiffCli()).setOut(out).setErr(err).execute(args);
  }
}
