package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;

/**
 * The bytes a set of moves has copied so far: for each reassignment under way, every adding
 * replica's size on disk against its leader's (DescribeLogDirs on the brokers concerned), plus the
 * whole size of each move seen under way that has finished since. From samples over time it tells
 * the copy rate (over the last ten seconds) and the time left at that rate. One per waiting
 * command; not thread-safe.
 */
final class CopyProgress {
  private static final long RATE_WINDOW_NANOS = 10_000_000_000L;

  /** One move's bytes: copied to its new replicas, and the most it needs (leader size x new). */
  record Copy(long copied, long total) {}

  /** Where the moves stood at one sample. */
  record Sample(long nanos, long copied, long total, double bytesPerSecond) {
    /** Seconds left at the current rate; -1 when unknown (no rate yet). */
    long etaSeconds() {
      if (copied >= total) {
        return 0;
      }
      return bytesPerSecond > 0 ? (long) Math.ceil((total - copied) / bytesPerSecond) : -1;
    }

    ObjectNode toJson() {
      final ObjectNode json = Printer.object();
      json.put("bytes_copied", copied);
      json.put("bytes_total", total);
      json.put("bytes_per_sec", Math.round(bytesPerSecond));
      json.put("eta_seconds", etaSeconds());
      return json;
    }

    /** "copied 20.0 of 48.0 MiB at 2.0 MiB/s, ETA 14 s". */
    String text() {
      final long eta = etaSeconds();
      return String.format(
          java.util.Locale.ROOT,
          "copied %.1f of %.1f MiB at %s, ETA %s",
          copied / 1048576.0,
          total / 1048576.0,
          ReplicationThrottle.rate(bytesPerSecond),
          eta < 0 ? "?" : eta + " s");
    }
  }

  private final Invocation run;
  private final Admin admin;
  private final Map<TopicPartition, Copy> ongoing = new HashMap<>();
  private final ArrayDeque<long[]> history = new ArrayDeque<>(); // {nanos, copied}
  private long finishedBytes;

  CopyProgress(Invocation run, Admin admin) {
    this.run = run;
    this.admin = admin;
  }

  /** Samples the moves of {@code partitions} under way now (all moves when null). */
  Sample sample(Set<TopicPartition> partitions) throws Exception {
    final Map<TopicPartition, PartitionReassignment> moves =
        run.await(
            partitions == null
                ? admin.listPartitionReassignments().reassignments()
                : admin.listPartitionReassignments(partitions).reassignments());
    final Map<TopicPartition, Copy> now = copies(moves);
    for (Map.Entry<TopicPartition, Copy> before : ongoing.entrySet()) {
      if (!now.containsKey(before.getKey())) {
        finishedBytes += before.getValue().total();
      }
    }
    ongoing.clear();
    ongoing.putAll(now);
    long copied = finishedBytes;
    long total = finishedBytes;
    for (Copy c : now.values()) {
      copied += c.copied();
      total += c.total();
    }
    final long nanos = System.nanoTime();
    history.addLast(new long[] {nanos, copied});
    while (history.size() > 2 && nanos - history.peekFirst()[0] > RATE_WINDOW_NANOS) {
      history.removeFirst();
    }
    final long[] first = history.peekFirst();
    final double rate =
        nanos > first[0] ? Math.max(0, copied - first[1]) * 1e9 / (nanos - first[0]) : 0;
    return new Sample(nanos, copied, total, rate);
  }

  /** Each move's copy, from the sizes its leader and its adding replicas report. */
  private Map<TopicPartition, Copy> copies(Map<TopicPartition, PartitionReassignment> moves)
      throws Exception {
    if (moves.isEmpty()) {
      return Map.of();
    }
    final Set<String> topics = new HashSet<>();
    moves.keySet().forEach(tp -> topics.add(tp.topic()));
    final Map<String, TopicDescription> described = TopicCommand.describeAll(run, admin, topics);
    final Map<TopicPartition, Integer> leaders = new HashMap<>();
    final Set<Integer> brokers = new HashSet<>();
    moves.forEach(
        (tp, move) -> {
          final var partition = described.get(tp.topic()).partitions().get(tp.partition());
          if (partition.leader() != null) {
            leaders.put(tp, partition.leader().id());
            brokers.add(partition.leader().id());
          }
          brokers.addAll(move.addingReplicas());
        });
    final Map<Integer, Map<TopicPartition, Long>> sizes = sizes(brokers);
    final Map<TopicPartition, Copy> copies = new HashMap<>();
    moves.forEach(
        (tp, move) -> {
          final Integer leader = leaders.get(tp);
          final long leaderSize =
              leader == null ? 0 : sizes.getOrDefault(leader, Map.of()).getOrDefault(tp, 0L);
          long copied = 0;
          for (int adding : move.addingReplicas()) {
            copied +=
                Math.min(leaderSize, sizes.getOrDefault(adding, Map.of()).getOrDefault(tp, 0L));
          }
          copies.put(tp, new Copy(copied, leaderSize * move.addingReplicas().size()));
        });
    return copies;
  }

  /** Replica sizes per broker; a broker that does not answer is left out (its copies count 0). */
  private Map<Integer, Map<TopicPartition, Long>> sizes(Collection<Integer> brokers)
      throws InterruptedException {
    final Map<Integer, Map<TopicPartition, Long>> sizes = new HashMap<>();
    final Map<Integer, KafkaFuture<Map<String, LogDirDescription>>> answers =
        admin.describeLogDirs(brokers).descriptions();
    for (Map.Entry<Integer, KafkaFuture<Map<String, LogDirDescription>>> e : answers.entrySet()) {
      final Map<TopicPartition, Long> onBroker = new HashMap<>();
      try {
        for (LogDirDescription dir : run.await(e.getValue()).values()) {
          for (Map.Entry<TopicPartition, ReplicaInfo> r : dir.replicaInfos().entrySet()) {
            onBroker.merge(r.getKey(), r.getValue().size(), Long::sum);
          }
        }
      } catch (InterruptedException interrupted) {
        throw interrupted;
      } catch (Exception unanswered) {
        continue; // counted as nothing copied there yet; the next sample asks again
      }
      sizes.put(e.getKey(), onBroker);
    }
    return sizes;
  }
}
