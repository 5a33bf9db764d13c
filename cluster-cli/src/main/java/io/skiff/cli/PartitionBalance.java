package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;

/**
 * {@code skiff partition balance}: plans even replica and leader counts ({@link ReplicaBalancer}),
 * moves the replicas that must move and waits for them, then sets each partition's preferred order
 * (the brokers record a finished move's replicas in Raft's order; a same-set target only reorders)
 * and elects the preferred leaders. One per run; not thread-safe.
 */
final class PartitionBalance {
  private final Invocation run;

  PartitionBalance(Invocation run) {
    this.run = run;
  }

  int run(boolean dryRun, List<Integer> brokers, Long maxBytesPerSec) throws Exception {
    try (Admin admin = run.admin()) {
      final ClusterSnapshot before = ClusterSnapshot.read(admin, run);
      final Map<TopicPartition, List<Integer>> current = new LinkedHashMap<>();
      before.partitions().forEach(p -> current.put(p.id(), p.replicas()));
      final Map<TopicPartition, List<Integer>> plan =
          new ReplicaBalancer(PartitionCommand.racks(before, brokers)).balance(current);
      final Map<TopicPartition, List<Integer>> moves = new LinkedHashMap<>();
      final Map<TopicPartition, List<Integer>> changed = new LinkedHashMap<>();
      plan.forEach(
          (tp, target) -> {
            if (!target.equals(current.get(tp))) {
              changed.put(tp, target);
              if (!new HashSet<>(target).equals(new HashSet<>(current.get(tp)))) {
                moves.put(tp, target);
              }
            }
          });
      final ObjectNode data = Printer.object().put("dry_run", dryRun);
      final ArrayNode changes = data.putArray("changes");
      final Table table = new Table("PARTITION", "FROM", "TO", "DATA MOVES");
      changed.forEach(
          (tp, target) -> {
            final ObjectNode c = changes.addObject().put("partition", ReassignmentPlan.name(tp));
            c.set("from", Printer.ints(current.get(tp)));
            c.set("to", Printer.ints(target));
            c.put("moves_data", moves.containsKey(tp));
            table.row(
                ReassignmentPlan.name(tp),
                current.get(tp),
                target,
                moves.containsKey(tp) ? "yes" : "no");
          });
      if (!dryRun) {
        if (maxBytesPerSec != null && !moves.isEmpty()) {
          ReplicationThrottle.set(run, admin, maxBytesPerSec);
        }
        execute(admin, moves, plan);
        if (maxBytesPerSec != null) {
          ReplicationThrottle.clear(run, admin);
        }
      }
      final ClusterSnapshot after = dryRun ? before : ClusterSnapshot.read(admin, run);
      data.set("brokers", BrokerCommand.brokers(after));
      run.printer()
          .print(
              data,
              out -> {
                out.printf(
                    "%d partitions change (%d move data)%s%n",
                    changed.size(), moves.size(), dryRun ? "; dry run, nothing changed" : "");
                if (!table.isEmpty()) {
                  table.print(out);
                }
                out.println();
                BrokerCommand.table(after).print(out);
              });
      return 0;
    }
  }

  private void execute(
      Admin admin,
      Map<TopicPartition, List<Integer>> moves,
      Map<TopicPartition, List<Integer>> plan)
      throws Exception {
    final Reassigner reassigner = new Reassigner(run, admin);
    if (!moves.isEmpty()) {
      final ReassignmentPlan movePlan = new ReassignmentPlan(moves);
      reassigner.start(movePlan);
      if (!reassigner.await(movePlan)) {
        throw new CliException(
            "replica moves not done after --timeout; they go on: 'skiff cluster status' follows them;"
                + " run 'skiff partition balance' again afterwards to set the leaders");
      }
    }
    final Map<TopicPartition, List<Integer>> reorder = new LinkedHashMap<>();
    ClusterSnapshot.read(admin, run)
        .partitions()
        .forEach(
            p -> {
              final List<Integer> target = plan.get(p.id());
              if (target != null && !target.equals(p.replicas())) {
                reorder.put(p.id(), target);
              }
            });
    if (!reorder.isEmpty()) {
      reassigner.start(new ReassignmentPlan(reorder));
    }
    final PreferredLeaders.Outcome outcome = PreferredLeaders.elect(run, admin);
    if (!outcome.failed().isEmpty()) {
      run.err().println("warning: leadership could not move for " + outcome.failed());
    }
  }
}
