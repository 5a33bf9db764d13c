package io.skiff.raft.metadata;

import io.skiff.raft.partition.PartitionId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A topic: its id, the replica list of each partition (first replica preferred as leader), its
 * configuration overrides, and the partitions being reassigned with their target replica lists.
 * While partition {@code p} is reassigned, its replicas are still {@link #replicasOf(int)}; the
 * brokers in {@link #addingOf(int)} catch up as non-voting listeners, and once the target has been
 * made the voters, the replica list becomes the target. Immutable.
 *
 * @param reassignments target replica list by partition, for partitions being reassigned
 */
public record TopicInfo(
    String name,
    UUID id,
    List<List<Integer>> replicas,
    Map<String, String> configs,
    Map<Integer, List<Integer>> reassignments) {
  public TopicInfo {
    replicas = replicas.stream().map(List::copyOf).toList();
    configs = Map.copyOf(configs);
    final TreeMap<Integer, List<Integer>> targets = new TreeMap<>();
    reassignments.forEach((p, target) -> targets.put(p, List.copyOf(target)));
    reassignments = java.util.Collections.unmodifiableSortedMap(targets);
  }

  /** A topic with no reassignment under way. */
  public TopicInfo(
      String name, UUID id, List<List<Integer>> replicas, Map<String, String> configs) {
    this(name, id, replicas, configs, Map.of());
  }

  public int partitionCount() {
    return replicas.size();
  }

  public PartitionId partition(int index) {
    return new PartitionId(name, id, index);
  }

  public List<Integer> replicasOf(int partition) {
    return replicas.get(partition);
  }

  /** The target replica list of partition {@code p}, if it is being reassigned. */
  public Optional<List<Integer>> reassignmentOf(int partition) {
    return Optional.ofNullable(reassignments.get(partition));
  }

  /** Target replicas that are not replicas yet (Kafka's adding replicas); empty if none. */
  public List<Integer> addingOf(int partition) {
    final List<Integer> target = reassignments.get(partition);
    return target == null ? List.of() : minus(target, replicasOf(partition));
  }

  /** Replicas that are not in the target (Kafka's removing replicas); empty if none. */
  public List<Integer> removingOf(int partition) {
    final List<Integer> target = reassignments.get(partition);
    return target == null ? List.of() : minus(replicasOf(partition), target);
  }

  /**
   * Every broker holding a replica of partition {@code p}, as Kafka reports it during a
   * reassignment: the target replicas, then the ones being removed; the replicas when none is under
   * way.
   */
  public List<Integer> allReplicasOf(int partition) {
    final List<Integer> target = reassignments.get(partition);
    if (target == null) {
      return replicasOf(partition);
    }
    final List<Integer> all = new ArrayList<>(target);
    all.addAll(removingOf(partition));
    return all;
  }

  TopicInfo withReplicas(List<List<Integer>> newReplicas) {
    return new TopicInfo(name, id, newReplicas, configs, reassignments);
  }

  TopicInfo withConfigs(Map<String, String> newConfigs) {
    return new TopicInfo(name, id, replicas, newConfigs, reassignments);
  }

  TopicInfo withReassignments(Map<Integer, List<Integer>> newReassignments) {
    return new TopicInfo(name, id, replicas, configs, newReassignments);
  }

  private static List<Integer> minus(List<Integer> from, List<Integer> removed) {
    return from.stream().filter(n -> !removed.contains(n)).toList();
  }
}
