package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code skiff cluster status|health}: the cluster at a glance, through the Kafka Admin API
 * (DescribeCluster, Metadata, DescribeConfigs, ListPartitionReassignments). Stateless between runs;
 * one run at a time.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description = "The cluster at a glance.",
    subcommands = {picocli.CommandLine.HelpCommand.class})
final class ClusterCommand {
  @Spec CommandSpec spec;

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description =
          "Brokers (rack, replicas, leaders), partitions that are leaderless,"
              + " under-replicated or under min.insync.replicas, and moves under way.",
      footer = {
        "",
        "Examples:",
        "  skiff cluster status",
        "  skiff cluster status -o json | jq .brokers"
      })
  int status() throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final ClusterSnapshot snapshot;
    final OptionalLong throttle;
    try (Admin admin = run.admin()) {
      snapshot = ClusterSnapshot.read(admin, run);
      throttle = ReplicationThrottle.read(run, admin);
    }
    final Map<Integer, String> states = new BrokerStates(run).statesOrEmpty();
    final ObjectNode data = Printer.object();
    data.put("cluster_id", snapshot.clusterId());
    data.set("brokers", BrokerCommand.brokers(snapshot, states));
    data.put("topics", snapshot.topics().size());
    data.put("partitions", snapshot.partitions().size());
    data.set("leaderless", names(snapshot.leaderless()));
    data.set("under_replicated", names(snapshot.underReplicated()));
    data.set("under_min_isr", names(snapshot.underMinInsync()));
    data.set("reassignments", reassignments(snapshot.reassignments()));
    if (throttle.isPresent()) {
      data.put("replication_throttle_bytes_per_sec", throttle.getAsLong());
    } else {
      data.putNull("replication_throttle_bytes_per_sec");
    }
    run.printer()
        .print(
            data,
            out -> {
              out.printf(
                  "cluster %s  topics %d  partitions %d%n%n",
                  snapshot.clusterId(), snapshot.topics().size(), snapshot.partitions().size());
              BrokerCommand.table(snapshot, states).print(out);
              out.println();
              out.println("leaderless partitions:       " + list(snapshot.leaderless()));
              out.println("under-replicated partitions: " + list(snapshot.underReplicated()));
              out.println("under min.insync.replicas:   " + list(snapshot.underMinInsync()));
              out.println("reassignments under way:     " + moves(snapshot.reassignments()));
              out.println(
                  "replication throttle:        "
                      + (throttle.isPresent()
                          ? ReplicationThrottle.rate(throttle.getAsLong())
                              + " ("
                              + ReplicationThrottle.KEY
                              + "="
                              + throttle.getAsLong()
                              + ")"
                          : "none"));
            });
    return 0;
  }

  @Command(
      name = "health",
      mixinStandardHelpOptions = true,
      description =
          "Healthy when every partition has a leader and all its replicas in sync, and brokers"
              + " answer; exit code 0 when healthy, 1 when not (for scripts and probes).",
      footer = {
        "",
        "Examples:",
        "  skiff cluster health && echo ok",
        "  skiff cluster health -o json"
      })
  int health() throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final ClusterSnapshot snapshot;
    try (Admin admin = run.admin()) {
      snapshot = ClusterSnapshot.read(admin, run);
    }
    final List<String> problems = new ArrayList<>();
    snapshot.leaderless().forEach(p -> problems.add(p.name() + " has no leader"));
    snapshot
        .underReplicated()
        .forEach(
            p ->
                problems.add(
                    p.name() + " is under-replicated: in sync " + p.isr() + " of " + p.replicas()));
    snapshot.underMinInsync().stream()
        .filter(p -> p.isr().size() == p.replicas().size())
        .forEach(p -> problems.add(p.name() + " has fewer replicas than min.insync.replicas"));
    final ObjectNode data = Printer.object();
    data.put("healthy", problems.isEmpty());
    data.put("brokers", snapshot.brokers().size());
    data.put("partitions", snapshot.partitions().size());
    final ArrayNode list = data.putArray("problems");
    problems.forEach(list::add);
    run.printer()
        .print(
            data,
            out -> {
              out.printf(
                  "%s: %d brokers, %d partitions%n",
                  problems.isEmpty() ? "healthy" : "UNHEALTHY",
                  snapshot.brokers().size(),
                  snapshot.partitions().size());
              problems.forEach(p -> out.println("  - " + p));
            });
    return problems.isEmpty() ? 0 : 1;
  }

  private static ArrayNode names(List<ClusterSnapshot.Partition> partitions) {
    final ArrayNode array = Printer.array();
    partitions.forEach(p -> array.add(p.name()));
    return array;
  }

  private static String list(List<ClusterSnapshot.Partition> partitions) {
    return partitions.isEmpty()
        ? "none"
        : String.join(" ", partitions.stream().map(ClusterSnapshot.Partition::name).toList());
  }

  static ArrayNode reassignments(Map<TopicPartition, PartitionReassignment> moves) {
    final ArrayNode array = Printer.array();
    moves.forEach(
        (tp, r) -> {
          final ObjectNode move = array.addObject();
          move.put("partition", tp.topic() + "/" + tp.partition());
          move.set("replicas", Printer.ints(r.replicas()));
          move.set("adding", Printer.ints(r.addingReplicas()));
          move.set("removing", Printer.ints(r.removingReplicas()));
        });
    return array;
  }

  private static String moves(Map<TopicPartition, PartitionReassignment> moves) {
    if (moves.isEmpty()) {
      return "none";
    }
    final List<String> lines = new ArrayList<>();
    moves.forEach(
        (tp, r) ->
            lines.add(
                tp.topic()
                    + "/"
                    + tp.partition()
                    + " adding "
                    + r.addingReplicas()
                    + " removing "
                    + r.removingReplicas()));
    return String.join("; ", lines);
  }

  static String address(Node node) {
    return node.host() + ":" + node.port();
  }
}
