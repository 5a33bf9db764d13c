package io.skiff.raft.metadata;

import io.skiff.raft.PartitionId;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A topic: its id, the replica list of each partition (first replica preferred as leader), and its
 * configuration overrides. Immutable.
 */
public record TopicInfo(
    String name, UUID id, List<List<Integer>> replicas, Map<String, String> configs) {
  public TopicInfo {
    replicas = replicas.stream().map(List::copyOf).toList();
    configs = Map.copyOf(configs);
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
}
