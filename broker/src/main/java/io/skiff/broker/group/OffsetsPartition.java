package io.skiff.broker.group;

import io.skiff.raft.partition.ReplicatedPartition;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One partition of {@code __consumer_offsets} that this broker leads, with the groups that hash to
 * it. Loading until the partition's log has been replayed; then active until this broker stops
 * leading it (or leads it again in a later epoch, which reloads). Thread-safe: the group map is
 * concurrent, the state volatile; each group guards itself.
 */
final class OffsetsPartition {
  final int index;
  final ReplicatedPartition replica;
  final long epoch;
  final Map<String, ClassicGroup> groups = new ConcurrentHashMap<>();
  private volatile boolean loaded;

  OffsetsPartition(int index, ReplicatedPartition replica, long epoch) {
    this.index = index;
    this.replica = replica;
    this.epoch = epoch;
  }

  boolean loaded() {
    return loaded;
  }

  void markLoaded() {
    loaded = true;
  }

  /** Whether this replica still leads in the epoch it was loaded for. */
  boolean leading() {
    return replica.isLeader() && replica.leaderEpoch() == epoch;
  }
}
