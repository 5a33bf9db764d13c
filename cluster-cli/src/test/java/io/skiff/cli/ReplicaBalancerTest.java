package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class ReplicaBalancerTest {
  private static Map<TopicPartition, List<Integer>> onFirstThree(int partitions) {
    final Map<TopicPartition, List<Integer>> current = new LinkedHashMap<>();
    for (int p = 0; p < partitions; p++) {
      current.put(new TopicPartition("t", p), List.of(1 + p % 3, 1 + (p + 1) % 3, 1 + (p + 2) % 3));
    }
    return current;
  }

  private static Map<Integer, Integer> replicas(Map<TopicPartition, List<Integer>> plan) {
    final Map<Integer, Integer> counts = new TreeMap<>();
    plan.values().forEach(r -> r.forEach(b -> counts.merge(b, 1, Integer::sum)));
    return counts;
  }

  private static Map<Integer, Integer> leaders(Map<TopicPartition, List<Integer>> plan) {
    final Map<Integer, Integer> counts = new TreeMap<>();
    plan.values().forEach(r -> counts.merge(r.get(0), 1, Integer::sum));
    return counts;
  }

  private static int moved(
      Map<TopicPartition, List<Integer>> from, Map<TopicPartition, List<Integer>> to) {
    int moved = 0;
    for (var e : from.entrySet()) {
      final var kept = new HashSet<>(e.getValue());
      kept.retainAll(to.get(e.getKey()));
      moved += e.getValue().size() - kept.size();
    }
    return moved;
  }

  @Test
  void aNewBrokerGetsItsShareOfReplicasAndLeadersWithTheFewestMoves() {
    final Map<TopicPartition, List<Integer>> current = onFirstThree(12);
    final Map<TopicPartition, List<Integer>> plan =
        new ReplicaBalancer(Map.of(1, "", 2, "", 3, "", 4, "")).balance(current);
    assertThat(replicas(plan)).containsExactlyInAnyOrderEntriesOf(Map.of(1, 9, 2, 9, 3, 9, 4, 9));
    assertThat(leaders(plan)).containsExactlyInAnyOrderEntriesOf(Map.of(1, 3, 2, 3, 3, 3, 4, 3));
    assertThat(moved(current, plan)).as("replicas moved").isEqualTo(9);
    plan.values().forEach(r -> assertThat(new HashSet<>(r)).hasSize(3));
  }

  @Test
  void replicasLeaveBrokersNotChosen() {
    final Map<TopicPartition, List<Integer>> current = onFirstThree(6);
    final Map<TopicPartition, List<Integer>> plan =
        new ReplicaBalancer(Map.of(1, "", 2, "", 4, "")).balance(current);
    plan.values().forEach(r -> assertThat(r).doesNotContain(3).hasSize(3));
    assertThat(leaders(plan).values()).allSatisfy(n -> assertThat(n).isEqualTo(2));
  }

  @Test
  void keepsPartitionsAcrossRacks() {
    final Map<TopicPartition, List<Integer>> current = new LinkedHashMap<>();
    for (int p = 0; p < 8; p++) {
      current.put(new TopicPartition("t", p), List.of(1, 3)); // racks a and b
    }
    final Map<Integer, String> racks = Map.of(1, "a", 2, "a", 3, "b", 4, "b");
    final Map<TopicPartition, List<Integer>> plan = new ReplicaBalancer(racks).balance(current);
    assertThat(replicas(plan)).containsExactlyInAnyOrderEntriesOf(Map.of(1, 4, 2, 4, 3, 4, 4, 4));
    plan.values().forEach(r -> assertThat(racks.get(r.get(0))).isNotEqualTo(racks.get(r.get(1))));
  }

  @Test
  void refusesMoreReplicasThanBrokers() {
    assertThatThrownBy(() -> new ReplicaBalancer(Map.of(1, "", 2, "")).balance(onFirstThree(1)))
        .hasMessageContaining("t-0 has 3 replicas but only 2 brokers can hold them");
  }
}
