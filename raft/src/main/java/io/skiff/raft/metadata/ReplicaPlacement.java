package io.skiff.raft.metadata;

import io.skiff.raft.metadata.MetadataException.Error;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Chooses replicas for new partitions, as Kafka's rack-unaware assignment does: brokers in id
 * order, partition {@code p} starting at broker {@code (start + p) mod n} and taking the next
 * {@code rf - 1} brokers after it, so leaders (first replicas) and replicas spread evenly. The
 * start is derived from the topic name, so topics do not all pile onto broker 0.
 */
final class ReplicaPlacement {
  private ReplicaPlacement() {}

  static List<List<Integer>> assign(
      String topic, Collection<BrokerInfo> brokers, int firstPartition, int count, int rf) {
    final List<Integer> ids = new ArrayList<>();
    for (BrokerInfo b : brokers) {
      if (b.state().acceptsReplicas()) {
        ids.add(b.nodeId());
      }
    }
    ids.sort(null);
    if (rf < 1 || rf > ids.size()) {
      throw new MetadataException(
          Error.INVALID_REPLICATION_FACTOR,
          "replication factor "
              + rf
              + " needs "
              + rf
              + " active brokers but "
              + ids.size()
              + " are registered");
    }
    if (count < 1) {
      throw new MetadataException(Error.INVALID_PARTITIONS, "partition count must be >= 1");
    }
    final int start = Math.floorMod(topic.hashCode(), ids.size());
    final List<List<Integer>> replicas = new ArrayList<>(count);
    for (int p = firstPartition; p < firstPartition + count; p++) {
      final List<Integer> partition = new ArrayList<>(rf);
      for (int r = 0; r < rf; r++) {
        partition.add(ids.get((start + p + r) % ids.size()));
      }
      replicas.add(partition);
    }
    return replicas;
  }
}
