package io.skiff.broker.group;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Expires the committed offsets of Empty groups {@code offsets.retention.minutes} after their
 * commit, writing a tombstone for each (and for the group once it has no offsets left) so a later
 * load does not bring them back. Runs on the coordinator's timer thread. Stateless.
 */
final class OffsetExpiry {
  private static final Logger LOG = LoggerFactory.getLogger(OffsetExpiry.class);

  private OffsetExpiry() {}

  static void run(GroupCoordinator coordinator, Collection<OffsetsPartition> partitions, long now) {
    for (OffsetsPartition partition : partitions) {
      if (partition.loaded() && partition.leading()) {
        partition.groups.values().forEach(g -> expire(coordinator, partition, g, now));
      }
    }
  }

  private static void expire(
      GroupCoordinator coordinator, OffsetsPartition partition, ClassicGroup group, long now) {
    if (group.state() != GroupState.EMPTY) {
      return;
    }
    final OffsetCache cache = coordinator.cache();
    final long retention = coordinator.config().offsetsRetentionMs();
    final Map<TopicPartition, CommittedOffset> offsets = cache.offsets(group.groupId());
    final List<TopicPartition> expired = new ArrayList<>();
    final List<SimpleRecord> tombstones = new ArrayList<>();
    offsets.forEach(
        (tp, offset) -> {
          if (now - offset.commitTimestamp() >= retention) {
            expired.add(tp);
            tombstones.add(CoordinatorRecords.offset(now, group.groupId(), tp, null));
          }
        });
    final boolean groupGone = expired.size() == offsets.size();
    if (groupGone) {
      tombstones.add(CoordinatorRecords.group(now, group.groupId(), null));
    }
    coordinator
        .write(partition, tombstones)
        .thenAccept(
            error -> {
              if (error != Errors.NONE) {
                LOG.warn("Expiring offsets of group {} failed: {}", group.groupId(), error);
                return;
              }
              expired.forEach(tp -> cache.remove(group.groupId(), tp));
              if (groupGone && group.state() == GroupState.EMPTY) {
                group.markDead(Errors.COORDINATOR_NOT_AVAILABLE);
                partition.groups.remove(group.groupId(), group);
              }
            });
  }
}
