package io.skiff.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code skiff} admin command. Each subcommand talks to brokers over the network only: their
 * Kafka port (through the Kafka Admin and client API) or their admin HTTP port (JSON under {@code
 * /v1/}). The global options are inherited by every subcommand, so they may be given before or
 * after it; their defaults come from {@link Profile}. One instance per run; not thread-safe.
 */
@Command(
    name = "skiff",
    mixinStandardHelpOptions = true,
    version = "skiff 0.1.0",
    description = "Operate a Skiff cluster.",
    footer = {
      "",
      "Examples:",
      "  skiff cluster status",
      "  skiff --bootstrap 10.0.0.1:9092 topic list --output json",
      "  skiff topic create orders --partitions 6 --replication-factor 3",
      "  source <(skiff generate-completion)      # bash/zsh completion",
      "",
      "Defaults: SKIFF_BOOTSTRAP, SKIFF_ADMIN, SKIFF_OUTPUT, SKIFF_TIMEOUT, then",
      "~/.config/skiff/skiff.properties (keys bootstrap, admin, output, timeout).",
      "Exit codes: 0 ok, 1 the operation failed, 2 usage error.",
      "The ./skiff launcher also runs brokers: ./skiff dev (a local 3-broker cluster),",
      "./skiff broker --config FILE (one broker)."
    },
    subcommands = {
      ClusterCommand.class,
      BrokerCommand.class,
      TopicCommand.class,
      PartitionCommand.class,
      LeadersCommand.class,
      GroupCommand.class,
      ProduceCommand.class,
      ConsumeCommand.class,
      MemoryCommand.class,
      VerifyCommand.class,
      AutoComplete.GenerateCompletion.class,
      CommandLine.HelpCommand.class
    })
public final class SkiffCli {
  @Option(
      names = {"-b", "--bootstrap"},
      scope = ScopeType.INHERIT,
      paramLabel = "HOST:PORT[,...]",
      defaultValue = "127.0.0.1:9092",
      description = "Kafka listeners of the cluster (default: ${DEFAULT-VALUE}).")
  String bootstrap;

  @Option(
      names = {"-a", "--admin"},
      scope = ScopeType.INHERIT,
      split = ",",
      paramLabel = "HOST:PORT",
      defaultValue = "127.0.0.1:9644",
      description = "Admin HTTP addresses of brokers, comma-separated (default: ${DEFAULT-VALUE}).")
  List<String> admin;

  @Option(
      names = {"-o", "--output"},
      scope = ScopeType.INHERIT,
      paramLabel = "FORMAT",
      defaultValue = "text",
      converter = Printer.FormatConverter.class,
      description = "text (aligned tables), json or yaml (stable keys, for scripts).")
  Printer.Format output;

  @Option(
      names = "--timeout",
      scope = ScopeType.INHERIT,
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description =
          "How long to wait for the cluster, e.g. 500ms, 10s, 2m (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  SkiffCli() {}

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs the command line with its output going to {@code out} and {@code err}. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    final Profile profile;
    try {
      profile = Profile.ofUser(System.getenv());
    } catch (RuntimeException e) {
      err.println("skiff: " + e.getMessage());
      err.flush();
      return 2;
    }
    return run(profile, out, err, args);
  }

  /**
   * Runs the command line with defaults from {@code profile}; returns the exit code (0 ok, 1
   * failure, 2 usage error).
   */
  static int run(Profile profile, PrintWriter out, PrintWriter err, String... args) {
    final CommandLine cli = commandLine(profile).setOut(out).setErr(err);
    try {
      return cli.execute(args);
    } finally {
      out.flush();
      err.flush();
    }
  }

  static CommandLine commandLine(Profile profile) {
    final CommandLine cli =
        new CommandLine(new SkiffCli())
            .setDefaultValueProvider(profile)
            .setParameterExceptionHandler(ErrorReport::usage)
            .setExecutionExceptionHandler(ErrorReport::failure);
    cli.getSubcommands()
        .get("generate-completion")
        .getCommandSpec()
        .usageMessage()
        .hidden(false)
        .footer(
            "",
            "Examples:",
            "  source <(skiff generate-completion)",
            "  skiff generate-completion > /etc/bash_completion.d/skiff");
    return cli;
  }

  /** What this run was given: where the cluster is, how to print, how long to wait. */
  Invocation invocation(CommandLine command) {
    return new Invocation(bootstrap, admin, output, timeout, command);
  }

  /** The invocation of the command that {@code spec} describes. */
  static Invocation invocation(CommandLine.Model.CommandSpec spec) {
    return ((SkiffCli) spec.root().userObject()).invocation(spec.commandLine());
  }
}
