package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;

/**
 * Applies, follows, verifies and cancels reassignments through the Kafka Admin API
 * (AlterPartitionReassignments, ListPartitionReassignments, Metadata). The brokers move the data
 * (new replicas join the partition's Raft group, catch up, then the old ones leave); this class
 * reports progress on stderr while it waits. One per command run; not thread-safe.
 */
final class Reassigner {
  /** Where one partition stands against its target. */
  enum State {
    DONE,
    MOVING,
    NOT_STARTED
  }

  private static final long REPORT_NANOS = 2_000_000_000L;

  private final Invocation run;
  private final Admin admin;
  private final CopyProgress copies;
  private CopyProgress.Sample lastSample;

  Reassigner(Invocation run, Admin admin) {
    this.run = run;
    this.admin = admin;
    this.copies = new CopyProgress(run, admin);
  }

  /** The bytes copied at the last progress report of {@link #await}; null before one. */
  CopyProgress.Sample lastSample() {
    return lastSample;
  }

  /**
   * Starts every reassignment of {@code plan}. When the brokers refuse some, throws a {@link
   * CliException} naming each refused partition and why, and which ones did start.
   */
  void start(ReassignmentPlan plan) throws Exception {
    final Map<TopicPartition, Optional<NewPartitionReassignment>> request = new LinkedHashMap<>();
    plan.targets()
        .forEach((tp, r) -> request.put(tp, Optional.of(new NewPartitionReassignment(r))));
    failOnRefusals(admin.alterPartitionReassignments(request).values(), "started");
  }

  /** Cancels the reassignments of {@code plan}'s partitions that are under way. */
  List<TopicPartition> cancel(ReassignmentPlan plan) throws Exception {
    final Set<TopicPartition> ongoing =
        run.await(admin.listPartitionReassignments(plan.targets().keySet()).reassignments())
            .keySet();
    final Map<TopicPartition, Optional<NewPartitionReassignment>> request = new LinkedHashMap<>();
    plan.targets().keySet().stream()
        .filter(ongoing::contains)
        .forEach(tp -> request.put(tp, Optional.empty()));
    if (!request.isEmpty()) {
      failOnRefusals(admin.alterPartitionReassignments(request).values(), "cancelled");
    }
    return List.copyOf(request.keySet());
  }

  private void failOnRefusals(Map<TopicPartition, KafkaFuture<Void>> results, String verb)
      throws Exception {
    final List<String> refused = new ArrayList<>();
    final List<String> done = new ArrayList<>();
    for (Map.Entry<TopicPartition, KafkaFuture<Void>> e : results.entrySet()) {
      try {
        run.await(e.getValue());
        done.add(ReassignmentPlan.name(e.getKey()));
      } catch (Exception error) {
        refused.add(ReassignmentPlan.name(e.getKey()) + ": " + ErrorReport.describe(error));
      }
    }
    if (!refused.isEmpty()) {
      throw new CliException(
          "refused "
              + String.join("; ", refused)
              + (done.isEmpty() ? "; nothing " + verb : "; " + verb + ": " + done));
    }
  }

  /** Where each partition of {@code plan} stands now. */
  Map<TopicPartition, State> states(ReassignmentPlan plan) throws Exception {
    final Set<String> topics = new HashSet<>();
    plan.targets().keySet().forEach(tp -> topics.add(tp.topic()));
    final Map<String, TopicDescription> described = TopicCommand.describeAll(run, admin, topics);
    final Map<TopicPartition, PartitionReassignment> ongoing =
        run.await(admin.listPartitionReassignments(plan.targets().keySet()).reassignments());
    final Map<TopicPartition, State> states = new LinkedHashMap<>();
    plan.targets()
        .forEach(
            (tp, target) -> {
              final List<Integer> now =
                  ClusterSnapshot.ids(
                      described.get(tp.topic()).partitions().get(tp.partition()).replicas());
              if (ongoing.containsKey(tp)) {
                states.put(tp, State.MOVING);
              } else {
                states.put(
                    tp,
                    new HashSet<>(now).equals(new HashSet<>(target))
                        ? State.DONE
                        : State.NOT_STARTED);
              }
            });
    return states;
  }

  /**
   * Waits until every partition of {@code plan} is done or {@code --timeout} passes, printing
   * progress on stderr as partitions finish (and every 2 s): partitions done and moving, bytes
   * copied of the total, rate and ETA ({@link CopyProgress}); {@link #lastSample()} keeps the last
   * for the command's result. True if all are done.
   */
  boolean await(ReassignmentPlan plan) throws Exception {
    final long start = System.nanoTime();
    final long deadline = start + run.timeout().toNanos();
    long lastReport = 0;
    int lastDone = -1;
    while (true) {
      final Map<TopicPartition, State> states = states(plan);
      final int done = (int) states.values().stream().filter(s -> s == State.DONE).count();
      final long now = System.nanoTime();
      if (done != lastDone || now - lastReport > REPORT_NANOS) {
        lastSample = copies.sample(states.keySet());
        report(states, done, lastSample, now - start);
        lastDone = done;
        lastReport = now;
      }
      if (done == states.size()) {
        return true;
      }
      if (now > deadline) {
        return false;
      }
      Thread.sleep(500);
    }
  }

  private void report(
      Map<TopicPartition, State> states, int done, CopyProgress.Sample copied, long elapsedNanos) {
    final long moving = states.values().stream().filter(s -> s == State.MOVING).count();
    run.err()
        .printf(
            "moving %d partitions: %d done, %d moving; %s; %.0fs elapsed%n",
            states.size(), done, moving, copied.text(), elapsedNanos / 1e9);
    run.err().flush();
  }

  /** {@code [{"partition": "t/0", "replicas": [...], "state": "done"}, ...]} and a table. */
  static ArrayNode describe(ReassignmentPlan plan, Map<TopicPartition, State> states, Table table) {
    final ArrayNode array = Printer.array();
    plan.targets()
        .forEach(
            (tp, target) -> {
              final ObjectNode p = array.addObject().put("partition", ReassignmentPlan.name(tp));
              p.set("replicas", Printer.ints(target));
              final State state = states.get(tp);
              p.put(
                  "state",
                  state == null ? "unknown" : state.name().toLowerCase(java.util.Locale.ROOT));
              table.row(ReassignmentPlan.name(tp), target, p.path("state").asText());
            });
    return array;
  }
}
