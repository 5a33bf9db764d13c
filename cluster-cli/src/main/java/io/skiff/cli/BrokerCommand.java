package io.skiff.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code skiff broker list|maintenance|decommission|recommission|unregister}: the registered
 * brokers with their load and membership state, and the state changes, which go through the admin
 * HTTP API ({@link BrokerStates}). Stateless; one run at a time.
 */
@Command(
    name = "broker",
    mixinStandardHelpOptions = true,
    description = "Brokers of the cluster.",
    subcommands = {picocli.CommandLine.HelpCommand.class})
final class BrokerCommand {
  @Spec CommandSpec spec;

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Every broker: id, address, rack, replicas hosted, partitions led.",
      footer = {"", "Examples:", "  skiff broker list", "  skiff broker list -o json"})
  int list() throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final ClusterSnapshot snapshot;
    try (Admin admin = run.admin()) {
      snapshot = ClusterSnapshot.read(admin, run);
    }
    final Map<Integer, String> states = new BrokerStates(run).statesOrEmpty();
    final ObjectNode data = Printer.object();
    data.set("brokers", brokers(snapshot, states));
    run.printer().print(data, out -> table(snapshot, states).print(out));
    return 0;
  }

  @Command(
      name = "maintenance",
      mixinStandardHelpOptions = true,
      description = {
        "Maintenance on: the broker's leaderships move to other replicas and it gets no new ones;",
        "its replicas stay and follow (a rolling restart, a disk swap). Off: it takes its",
        "preferred leaderships back."
      },
      footer = {
        "",
        "Examples:",
        "  skiff broker maintenance on 2",
        "  skiff broker maintenance off 2"
      })
  int maintenance(
      @Parameters(index = "0", paramLabel = "on|off", description = "on or off") Switch mode,
      @Parameters(index = "1", paramLabel = "ID", description = "the broker's node.id") int id)
      throws Exception {
    return change(id, "maintenance/" + mode.name().toLowerCase(java.util.Locale.ROOT));
  }

  /** {@code on} or {@code off}. */
  enum Switch {
    on,
    off
  }

  @Command(
      name = "decommission",
      mixinStandardHelpOptions = true,
      description = {
        "Moves every replica off the broker (placement picks the targets, rack-aware), then marks",
        "it decommissioned. Refused when the other brokers cannot hold a partition's replication",
        "factor. Resumable: the state lives in the cluster metadata; 'recommission' cancels it."
      },
      footer = {
        "",
        "Examples:",
        "  skiff broker decommission 3",
        "  skiff broker decommission 3 --wait --timeout 10m",
        "  skiff broker decommission 3 --wait --max-bytes-per-sec 52428800"
      })
  int decommission(
      @Parameters(paramLabel = "ID", description = "the broker's node.id") int id,
      @Option(
              names = "--wait",
              description =
                  "Wait (up to --timeout) until every replica has moved, showing partitions moved,"
                      + " bytes copied, rate and ETA")
          boolean wait,
      @Option(
              names = "--max-bytes-per-sec",
              paramLabel = "BYTES",
              description = DECOMMISSION_THROTTLE_HELP)
          Long maxBytesPerSec)
      throws Exception {
    ReplicationThrottle.check(
        maxBytesPerSec, spec.subcommands().get("decommission").getCommandSpec().commandLine());
    final Invocation run = SkiffCli.invocation(spec);
    final BrokerStates states = new BrokerStates(run);
    try (Admin admin = run.admin()) {
      if (maxBytesPerSec != null) {
        ReplicationThrottle.set(run, admin, maxBytesPerSec);
      }
      final JsonNode started = states.post(id, "decommission");
      if (!wait) {
        if (maxBytesPerSec != null) {
          run.err()
              .println(
                  "the throttle stays until lifted: kafka-configs --entity-type brokers"
                      + " --entity-default --alter --delete-config "
                      + ReplicationThrottle.KEY);
        }
        run.printer().print(started, out -> out.println(summary(started)));
        return 0;
      }
      final JsonNode done = new DecommissionProgress(run, states, admin, id).await(started);
      if (maxBytesPerSec != null) {
        ReplicationThrottle.clear(run, admin);
      }
      run.printer().print(done, out -> out.println(summary(done)));
      return 0;
    }
  }

  private static final String DECOMMISSION_THROTTLE_HELP =
      "Throttle the new replicas' catch-up to BYTES per second in all, on each broker that receives"
          + " replicas (follower.replication.throttled.rate, cluster-wide, kept in the metadata"
          + " across restarts). With --wait it is lifted once the broker is decommissioned.";

  @Command(
      name = "recommission",
      mixinStandardHelpOptions = true,
      description = {
        "Makes a draining or decommissioned broker active again: a drain under way stops (moves",
        "already started finish) and placement may use it again."
      },
      footer = {"", "Examples:", "  skiff broker recommission 3"})
  int recommission(@Parameters(paramLabel = "ID", description = "the broker's node.id") int id)
      throws Exception {
    return change(id, "recommission");
  }

  @Command(
      name = "unregister",
      mixinStandardHelpOptions = true,
      description = {
        "Removes a decommissioned broker from the metadata group's listeners, once it is gone for",
        "good. Refused for a metadata voter and for a broker that is not decommissioned. A broker",
        "started again with the same node.id rejoins as a listener (still decommissioned)."
      },
      footer = {
        "",
        "Examples:",
        "  skiff broker decommission 4 --wait && skiff broker unregister 4"
      })
  int unregister(@Parameters(paramLabel = "ID", description = "the broker's node.id") int id)
      throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final JsonNode result = new BrokerStates(run).post(id, "unregister");
    run.printer()
        .print(
            result,
            out ->
                out.println(
                    result.path("removed").asBoolean()
                        ? "broker " + id + " no longer receives the metadata log"
                        : "broker " + id + " was no listener of the metadata group"));
    return 0;
  }

  private int change(int id, String action) throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final JsonNode broker = new BrokerStates(run).post(id, action);
    run.printer().print(broker, out -> out.println(summary(broker)));
    return 0;
  }

  static String summary(JsonNode broker) {
    return "broker "
        + broker.path("id").asInt()
        + " is "
        + broker.path("state").asText()
        + " (replicas on it: "
        + broker.path("replicas").asInt()
        + ")";
  }

  static ArrayNode brokers(ClusterSnapshot snapshot) {
    return brokers(snapshot, Map.of());
  }

  /** The brokers as JSON, with their membership {@code state} (null when unknown). */
  static ArrayNode brokers(ClusterSnapshot snapshot, Map<Integer, String> states) {
    final Map<Integer, Integer> replicas = snapshot.replicaCounts();
    final Map<Integer, Integer> leaders = snapshot.leaderCounts();
    final ArrayNode array = Printer.array();
    for (Node b : snapshot.brokers()) {
      final ObjectNode broker = array.addObject();
      broker.put("id", b.id());
      broker.put("address", ClusterCommand.address(b));
      if (b.hasRack()) {
        broker.put("rack", b.rack());
      } else {
        broker.putNull("rack");
      }
      broker.put("state", states.get(b.id()));
      broker.put("replicas", replicas.getOrDefault(b.id(), 0));
      broker.put("leaders", leaders.getOrDefault(b.id(), 0));
    }
    return array;
  }

  static Table table(ClusterSnapshot snapshot) {
    return table(snapshot, Map.of());
  }

  /** The brokers as a table; the STATE column is "?" where the admin API did not answer. */
  static Table table(ClusterSnapshot snapshot, Map<Integer, String> states) {
    final Map<Integer, Integer> replicas = snapshot.replicaCounts();
    final Map<Integer, Integer> leaders = snapshot.leaderCounts();
    final Table table = new Table("ID", "ADDRESS", "RACK", "STATE", "REPLICAS", "LEADERS");
    for (Node b : snapshot.brokers()) {
      table.row(
          b.id(),
          ClusterCommand.address(b),
          b.hasRack() ? b.rack() : null,
          states.getOrDefault(b.id(), "?"),
          replicas.getOrDefault(b.id(), 0),
          leaders.getOrDefault(b.id(), 0));
    }
    return table;
  }
}
