package io.skiff.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;

/**
 * Plans replica lists so that every broker hosts as many replicas as any other (within one) and is
 * the preferred leader (first replica) of as many partitions as any other (within one), moving as
 * few replicas as it can, and never lowering the number of racks a partition spans.
 *
 * <p>Replicas on brokers outside the given set (decommissioned, or not chosen with {@code
 * --brokers}) are moved first, each to the least-loaded broker that keeps the partition's racks
 * distinct where it can. Then, while the most-loaded broker holds two more replicas than the
 * least-loaded, one replica moves between them. Leadership is then evened by reordering replica
 * lists only (no data moves): the preferred leader of a partition becomes another of its replicas.
 * Deterministic (brokers and partitions in order). Stateless; thread-safe.
 */
final class ReplicaBalancer {
  private final Map<Integer, String> racks;

  /**
   * @param racks the brokers to place replicas on, each with its rack ({@code ""} for none)
   */
  ReplicaBalancer(Map<Integer, String> racks) {
    if (racks.isEmpty()) {
      throw new IllegalArgumentException("no brokers to place replicas on");
    }
    this.racks = new TreeMap<>(racks);
  }

  /** The balanced replica lists of {@code current}, in the same partition order. */
  Map<TopicPartition, List<Integer>> balance(Map<TopicPartition, List<Integer>> current) {
    final Map<TopicPartition, List<Integer>> plan = new LinkedHashMap<>();
    current.forEach((tp, replicas) -> plan.put(tp, new ArrayList<>(replicas)));
    for (Map.Entry<TopicPartition, List<Integer>> e : plan.entrySet()) {
      if (e.getValue().size() > racks.size()) {
        throw new IllegalArgumentException(
            e.getKey()
                + " has "
                + e.getValue().size()
                + " replicas but only "
                + racks.size()
                + " brokers can hold them");
      }
    }
    evacuate(plan);
    evenReplicas(plan);
    evenLeaders(plan);
    return plan;
  }

  private void evacuate(Map<TopicPartition, List<Integer>> plan) {
    for (List<Integer> replicas : plan.values()) {
      for (int i = 0; i < replicas.size(); i++) {
        if (!racks.containsKey(replicas.get(i))) {
          final List<Integer> others = new ArrayList<>(replicas);
          others.remove(i);
          final int to = leastLoaded(plan, others);
          replicas.set(i, to);
        }
      }
    }
  }

  /** The least-loaded broker not in {@code others}, on a rack {@code others} do not use if any. */
  private int leastLoaded(Map<TopicPartition, List<Integer>> plan, List<Integer> others) {
    final Map<Integer, Integer> counts = replicaCounts(plan);
    final Set<String> used = racksOf(others);
    return racks.keySet().stream()
        .filter(b -> !others.contains(b))
        .min(
            Comparator.comparing(
                    (Integer b) -> used.contains(racks.get(b)) && !racks.get(b).isEmpty())
                .thenComparing(counts::get)
                .thenComparing(b -> b))
        .orElseThrow();
  }

  private void evenReplicas(Map<TopicPartition, List<Integer>> plan) {
    for (int guard = 0; guard < 100_000; guard++) {
      final Map<Integer, Integer> counts = replicaCounts(plan);
      final List<Integer> byLoad = new ArrayList<>(counts.keySet());
      byLoad.sort(Comparator.comparing((Integer b) -> counts.get(b)).thenComparing(b -> b));
      if (!moveOne(plan, counts, byLoad)) {
        return;
      }
    }
  }

  /** Moves one replica from a broker to one holding at least two fewer; false if none can move. */
  private boolean moveOne(
      Map<TopicPartition, List<Integer>> plan, Map<Integer, Integer> counts, List<Integer> byLoad) {
    for (int hi = byLoad.size() - 1; hi > 0; hi--) {
      for (int lo = 0; lo < hi; lo++) {
        final int from = byLoad.get(hi);
        final int to = byLoad.get(lo);
        if (counts.get(from) - counts.get(to) <= 1) {
          break;
        }
        for (List<Integer> replicas : plan.values()) {
          if (replicas.contains(from) && !replicas.contains(to) && keepsRacks(replicas, from, to)) {
            replicas.set(replicas.indexOf(from), to);
            return true;
          }
        }
      }
    }
    return false;
  }

  private boolean keepsRacks(List<Integer> replicas, int from, int to) {
    final List<Integer> after = new ArrayList<>(replicas);
    after.set(after.indexOf(from), to);
    return racksOf(after).size() >= racksOf(replicas).size();
  }

  private void evenLeaders(Map<TopicPartition, List<Integer>> plan) {
    for (int guard = 0; guard < 100_000; guard++) {
      final Map<Integer, Integer> leaders = new TreeMap<>();
      racks.keySet().forEach(b -> leaders.put(b, 0));
      plan.values().forEach(r -> leaders.merge(r.get(0), 1, Integer::sum));
      final List<Integer> byLoad = new ArrayList<>(leaders.keySet());
      byLoad.sort(Comparator.comparing((Integer b) -> leaders.get(b)).thenComparing(b -> b));
      if (!handOverOne(plan, leaders, byLoad)) {
        return;
      }
    }
  }

  private static boolean handOverOne(
      Map<TopicPartition, List<Integer>> plan,
      Map<Integer, Integer> leaders,
      List<Integer> byLoad) {
    for (int hi = byLoad.size() - 1; hi > 0; hi--) {
      for (int lo = 0; lo < hi; lo++) {
        final int from = byLoad.get(hi);
        final int to = byLoad.get(lo);
        if (leaders.get(from) - leaders.get(to) <= 1) {
          break;
        }
        for (List<Integer> replicas : plan.values()) {
          if (replicas.get(0) == from && replicas.contains(to)) {
            replicas.remove(Integer.valueOf(to));
            replicas.add(0, to);
            return true;
          }
        }
      }
    }
    return false;
  }

  private Map<Integer, Integer> replicaCounts(Map<TopicPartition, List<Integer>> plan) {
    final Map<Integer, Integer> counts = new TreeMap<>();
    racks.keySet().forEach(b -> counts.put(b, 0));
    plan.values()
        .forEach(
            r ->
                r.stream()
                    .filter(racks::containsKey)
                    .forEach(b -> counts.merge(b, 1, Integer::sum)));
    return counts;
  }

  private Set<String> racksOf(List<Integer> brokers) {
    final Set<String> used = new HashSet<>();
    for (int b : brokers) {
      final String rack = racks.get(b);
      used.add(rack == null || rack.isEmpty() ? "#" + b : rack);
    }
    return used;
  }
}
