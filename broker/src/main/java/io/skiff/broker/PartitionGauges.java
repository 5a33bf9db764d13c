package io.skiff.broker;

import com.codahale.metrics.MetricRegistry;
import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.ReplicatedPartition;
import java.util.function.Supplier;

/**
 * The partition-state gauges operators alert on, as this broker sees its replicas (Kafka's
 * ReplicaManager and controller gauges; sum or max them over brokers):
 *
 * <ul>
 *   <li>{@code partitions.leader}: replicas hosted here that lead (Kafka's LeaderCount);
 *   <li>{@code partitions.under_replicated}: partitions led here with fewer replicas in sync
 *       ({@code replica.lag.time.max.ms}) than assigned (UnderReplicatedPartitions);
 *   <li>{@code partitions.offline}: replicas hosted here whose group knows no leader
 *       (OfflinePartitionsCount, from this broker's side).
 * </ul>
 *
 * Each gauge walks the hosted replicas when read (a scrape), nothing in between. Thread-safe.
 */
final class PartitionGauges {
  private PartitionGauges() {}

  static void register(
      MetricRegistry metrics, RaftNode raft, Supplier<MetadataImage> image, long replicaLagMs) {
    metrics.gauge(
        "partitions.leader",
        () -> () -> raft.partitions().stream().filter(ReplicatedPartition::isLeader).count());
    metrics.gauge(
        "partitions.under_replicated",
        () ->
            () -> {
              final MetadataImage snapshot = image.get();
              return raft.partitions().stream()
                  .filter(ReplicatedPartition::isLeader)
                  .filter(p -> p.inSyncReplicas(replicaLagMs) < assigned(snapshot, p))
                  .count();
            });
    metrics.gauge(
        "partitions.offline",
        () -> () -> raft.partitions().stream().filter(p -> p.leaderNodeId().isEmpty()).count());
  }

  private static int assigned(MetadataImage snapshot, ReplicatedPartition p) {
    final TopicInfo topic = snapshot.topics().get(p.id().topic());
    return topic == null ? 0 : topic.replicasOf(p.id().partition()).size();
  }
}
