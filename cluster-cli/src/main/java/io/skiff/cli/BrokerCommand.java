package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code skiff broker list}: the registered brokers with their load. Stateless; one run at a time.
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
    final ObjectNode data = Printer.object();
    data.set("brokers", brokers(snapshot));
    run.printer().print(data, out -> table(snapshot).print(out));
    return 0;
  }

  static ArrayNode brokers(ClusterSnapshot snapshot) {
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
      broker.put("replicas", replicas.getOrDefault(b.id(), 0));
      broker.put("leaders", leaders.getOrDefault(b.id(), 0));
    }
    return array;
  }

  static Table table(ClusterSnapshot snapshot) {
    final Map<Integer, Integer> replicas = snapshot.replicaCounts();
    final Map<Integer, Integer> leaders = snapshot.leaderCounts();
    final Table table = new Table("ID", "ADDRESS", "RACK", "REPLICAS", "LEADERS");
    for (Node b : snapshot.brokers()) {
      table.row(
          b.id(),
          ClusterCommand.address(b),
          b.hasRack() ? b.rack() : null,
          replicas.getOrDefault(b.id(), 0),
          leaders.getOrDefault(b.id(), 0));
    }
    return table;
  }
}
