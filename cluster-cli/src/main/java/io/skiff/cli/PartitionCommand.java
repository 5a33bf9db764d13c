package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code skiff partition move|reassign|balance}: replica placement through Kafka's reassignment
 * API; the brokers move the data through Raft membership changes. Stateless between runs; one run
 * at a time.
 */
@Command(
    name = "partition",
    mixinStandardHelpOptions = true,
    description = "Move partitions' replicas between brokers.",
    subcommands = {picocli.CommandLine.HelpCommand.class})
final class PartitionCommand {
  @Spec CommandSpec spec;

  @Command(
      name = "move",
      mixinStandardHelpOptions = true,
      description =
          "Give one partition a new replica list, and wait (with progress) until it has moved.",
      footer = {
        "",
        "Examples:",
        "  skiff partition move orders/0 --replicas 1,2,4",
        "  skiff partition move orders/3 --replicas 4,2,3 --no-wait",
        "  skiff partition move orders/0 --replicas 1,2,4 --max-bytes-per-sec 10485760"
      })
  int move(
      @Parameters(paramLabel = "TOPIC/P", description = "The partition, e.g. orders/0.")
          String partition,
      @Option(
              names = "--replicas",
              required = true,
              split = ",",
              paramLabel = "ID",
              description = "New replicas, preferred leader first.")
          List<Integer> replicas,
      @Option(names = "--no-wait", description = "Return once the move is recorded.")
          boolean noWait,
      @Option(names = "--max-bytes-per-sec", paramLabel = "BYTES", description = THROTTLE_HELP)
          Long maxBytesPerSec)
      throws Exception {
    final TopicPartition tp =
        parsePartition(partition, spec.subcommands().get("move").getCommandSpec());
    final ReassignmentPlan plan = new ReassignmentPlan(Map.of(tp, replicas));
    if (Set.copyOf(replicas).size() != replicas.size()) {
      throw new ParameterException(
          spec.subcommands().get("move"), "--replicas " + replicas + " names a broker twice");
    }
    ReplicationThrottle.check(
        maxBytesPerSec, spec.subcommands().get("move").getCommandSpec().commandLine());
    return apply(plan, !noWait, maxBytesPerSec);
  }

  /** One of the four reassign actions. */
  static final class Action {
    @Option(names = "--generate", description = "Print a balanced plan for --topics on --brokers.")
    boolean generate;

    @Option(names = "--execute", description = "Start the plan's moves (with --wait: follow them).")
    boolean execute;

    @Option(
        names = "--verify",
        description =
            "Tell, per partition, done / moving / not started, with the bytes copied; exit 1"
                + " unless all done. Once all are done, lift the replication throttle.")
    boolean verify;

    @Option(
        names = "--cancel",
        description = "Cancel the plan's moves that are under way; lift the replication throttle.")
    boolean cancel;
  }

  @Command(
      name = "reassign",
      mixinStandardHelpOptions = true,
      description =
          "Kafka-style reassignment with a JSON plan (kafka-reassign-partitions.sh's format).",
      footer = {
        "",
        "Examples:",
        "  skiff partition reassign --generate --topics orders --brokers 1,2 > plan.json",
        "  skiff partition reassign --plan plan.json --execute --wait",
        "  skiff partition reassign --plan p.json --execute --max-bytes-per-sec 2097152",
        "  skiff partition reassign --plan plan.json --verify",
        "  skiff partition reassign --plan plan.json --cancel"
      })
  int reassign(
      @ArgGroup(exclusive = true, multiplicity = "1") Action action,
      @Option(
              names = "--plan",
              paramLabel = "FILE",
              description = "The plan (--execute, --verify, --cancel).")
          Path planFile,
      @Option(
              names = "--topics",
              split = ",",
              paramLabel = "TOPIC",
              description = "Topics to place (--generate).")
          List<String> topics,
      @Option(
              names = "--brokers",
              split = ",",
              paramLabel = "ID",
              description = "Brokers to place them on (--generate).")
          List<Integer> brokers,
      @Option(names = "--wait", description = "After --execute, wait until done, with progress.")
          boolean wait,
      @Option(names = "--max-bytes-per-sec", paramLabel = "BYTES", description = THROTTLE_HELP)
          Long maxBytesPerSec)
      throws Exception {
    final CommandSpec self = spec.subcommands().get("reassign").getCommandSpec();
    ReplicationThrottle.check(maxBytesPerSec, self.commandLine());
    if (maxBytesPerSec != null && !action.execute) {
      throw new ParameterException(self.commandLine(), "--max-bytes-per-sec goes with --execute");
    }
    if (action.generate) {
      if (topics == null || brokers == null) {
        throw new ParameterException(self.commandLine(), "--generate needs --topics and --brokers");
      }
      return generate(topics, brokers);
    }
    if (planFile == null) {
      throw new ParameterException(
          self.commandLine(), "--execute, --verify and --cancel need --plan FILE");
    }
    final ReassignmentPlan plan = readPlan(planFile);
    if (action.execute) {
      return apply(plan, wait, maxBytesPerSec);
    }
    final Invocation run = SkiffCli.invocation(spec);
    try (Admin admin = run.admin()) {
      final Reassigner reassigner = new Reassigner(run, admin);
      if (action.cancel) {
        final List<TopicPartition> cancelled = reassigner.cancel(plan);
        final ObjectNode data = Printer.object();
        data.put("throttle_lifted", ReplicationThrottle.clear(run, admin));
        data.set("cancelled", Printer.array());
        cancelled.forEach(tp -> data.withArray("cancelled").add(ReassignmentPlan.name(tp)));
        run.printer()
            .print(
                data,
                out ->
                    out.println(
                        cancelled.isEmpty()
                            ? "no move of the plan was under way"
                            : "cancelled " + cancelled.size() + " moves"));
        return 0;
      }
      final Map<TopicPartition, Reassigner.State> states = reassigner.states(plan);
      final Table table = new Table("PARTITION", "TARGET", "STATE");
      final ObjectNode data = Printer.object();
      data.set("partitions", Reassigner.describe(plan, states, table));
      final boolean allDone = states.values().stream().allMatch(s -> s == Reassigner.State.DONE);
      data.put("complete", allDone);
      final CopyProgress.Sample copied =
          new CopyProgress(run, admin).sample(plan.targets().keySet());
      data.set("progress", copied.toJson());
      data.put("throttle_lifted", allDone && ReplicationThrottle.clear(run, admin));
      run.printer()
          .print(
              data,
              out -> {
                table.print(out);
                if (!allDone) {
                  out.println("moves under way: " + copied.text());
                }
              });
      return allDone ? 0 : 1;
    }
  }

  @Command(
      name = "balance",
      mixinStandardHelpOptions = true,
      description =
          "Spread replicas and preferred leaders evenly over the brokers (rack-aware, fewest moves),"
              + " move them, then elect the preferred leaders.",
      footer = {
        "",
        "Examples:",
        "  skiff partition balance --dry-run",
        "  skiff partition balance",
        "  skiff partition balance --brokers 1,2,3,5    # leave broker 4 out",
        "  skiff partition balance --max-bytes-per-sec 52428800"
      })
  int balance(
      @Option(names = "--dry-run", description = "Show the plan only.") boolean dryRun,
      @Option(
              names = "--brokers",
              split = ",",
              paramLabel = "ID",
              description = "Place replicas only on these brokers (default: all).")
          List<Integer> brokers,
      @Option(names = "--max-bytes-per-sec", paramLabel = "BYTES", description = THROTTLE_HELP)
          Long maxBytesPerSec)
      throws Exception {
    ReplicationThrottle.check(
        maxBytesPerSec, spec.subcommands().get("balance").getCommandSpec().commandLine());
    return new PartitionBalance(SkiffCli.invocation(spec)).run(dryRun, brokers, maxBytesPerSec);
  }

  private int generate(List<String> topics, List<Integer> brokers) throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    try (Admin admin = run.admin()) {
      final ClusterSnapshot snapshot = ClusterSnapshot.read(admin, run);
      TopicCommand.describeAll(run, admin, topics);
      final Map<Integer, String> racks = racks(snapshot, brokers);
      final Map<TopicPartition, List<Integer>> current = new LinkedHashMap<>();
      snapshot.partitions().stream()
          .filter(p -> topics.contains(p.id().topic()))
          .forEach(p -> current.put(p.id(), p.replicas()));
      final ReassignmentPlan now = new ReassignmentPlan(current);
      final ReassignmentPlan proposed =
          new ReassignmentPlan(new ReplicaBalancer(racks).balance(current));
      final ObjectNode data = Printer.object();
      data.set("current", now.toJson());
      data.set("proposed", proposed.toJson());
      if (run.printer().isText()) {
        run.err().println("Current partition replica assignment (save it to roll back):");
        run.err().println(now.toJson().toString());
        run.err().println("Proposed partition reassignment configuration (stdout):");
        run.out().println(proposed.toJson().toPrettyString());
      } else {
        run.printer().print(data, out -> {});
      }
    }
    return 0;
  }

  static final String THROTTLE_HELP =
      "Throttle the new replicas' catch-up to BYTES per second in all, on each broker that receives"
          + " replicas (follower.replication.throttled.rate, cluster-wide, kept in the metadata"
          + " across restarts). Lifted when the moves are done (when waiting), or by 'partition"
          + " reassign --verify' once done, or '--cancel'.";

  /**
   * Checks {@code plan} against the cluster, sets the throttle (when asked), starts the plan and
   * (if asked) follows it to the end, then lifts the throttle.
   */
  private int apply(ReassignmentPlan plan, boolean wait, Long maxBytesPerSec) throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    try (Admin admin = run.admin()) {
      plan.check(ClusterSnapshot.read(admin, run));
      if (maxBytesPerSec != null) {
        ReplicationThrottle.set(run, admin, maxBytesPerSec);
      }
      final Reassigner reassigner = new Reassigner(run, admin);
      reassigner.start(plan);
      final boolean done = wait && reassigner.await(plan);
      if (done && maxBytesPerSec != null) {
        ReplicationThrottle.clear(run, admin);
      } else if (maxBytesPerSec != null) {
        run.err()
            .println(
                "the throttle stays until 'skiff partition reassign --verify' finds a plan's moves done,"
                    + " '--cancel' stops them, or kafka-configs --entity-type brokers"
                    + " --entity-default --alter --delete-config "
                    + ReplicationThrottle.KEY);
      }
      final Map<TopicPartition, Reassigner.State> states = reassigner.states(plan);
      final Table table = new Table("PARTITION", "TARGET", "STATE");
      final ObjectNode data = Printer.object();
      data.set("partitions", Reassigner.describe(plan, states, table));
      data.put("complete", states.values().stream().allMatch(s -> s == Reassigner.State.DONE));
      if (reassigner.lastSample() != null) {
        data.set("progress", reassigner.lastSample().toJson());
      }
      run.printer().print(data, table::print);
      if (wait && !done) {
        throw new CliException(
            "not done after --timeout "
                + run.timeout().toSeconds()
                + "s; the moves go on: 'skiff partition reassign --verify' or 'skiff cluster status' follow them");
      }
      return 0;
    }
  }

  private static ReassignmentPlan readPlan(Path file) {
    try {
      return ReassignmentPlan.parse(Files.readString(file), file.toString());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the plan " + file + ": " + e.getMessage());
    }
  }

  /** The racks of {@code ids} (all brokers when null), failing on an id not in the cluster. */
  static Map<Integer, String> racks(ClusterSnapshot snapshot, List<Integer> ids) {
    final Map<Integer, String> racks = new TreeMap<>();
    for (Node b : snapshot.brokers()) {
      if (ids == null || ids.contains(b.id())) {
        racks.put(b.id(), b.hasRack() ? b.rack() : "");
      }
    }
    if (ids != null) {
      for (int id : ids) {
        if (!racks.containsKey(id)) {
          throw new CliException(
              "broker " + id + " is not in the cluster; brokers: " + snapshot.brokerIds());
        }
      }
    }
    return racks;
  }

  /**
   * Reads {@code TOPIC/P} (also Kafka's {@code TOPIC-P} is not accepted: topic names have dashes).
   */
  static TopicPartition parsePartition(String text, CommandSpec command) {
    final int slash = text.lastIndexOf('/');
    try {
      if (slash <= 0) {
        throw new NumberFormatException();
      }
      final int p = Integer.parseInt(text.substring(slash + 1));
      if (p < 0) {
        throw new NumberFormatException();
      }
      return new TopicPartition(text.substring(0, slash), p);
    } catch (NumberFormatException e) {
      throw new ParameterException(
          command.commandLine(), "'" + text + "' is not TOPIC/PARTITION, e.g. orders/0");
    }
  }
}
