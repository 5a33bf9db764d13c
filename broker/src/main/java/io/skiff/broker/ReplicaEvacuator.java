package io.skiff.broker;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.BrokerState;
import io.skiff.raft.metadata.DrainPlanner;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.MetadataService;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.ReplicatedPartition;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the decommission of draining brokers for the partitions led here: for each such partition
 * that has a replica on a {@link BrokerState#DRAINING} broker and no reassignment under way, it
 * starts a reassignment to the target {@link DrainPlanner} chooses. The partition's leader then
 * moves the replica ({@code ReassignmentDriver}), and the metadata marks the broker decommissioned
 * once nothing names it. Every partition has one leader, so no two brokers start the same move; the
 * state lives in the metadata, so a restart (of any broker) resumes where the drain stood, and
 * recommissioning the broker stops new moves (the ones under way finish).
 *
 * <p>{@link #check} runs on the broker's scheduler; it only submits metadata changes. Thread-safe:
 * the set of partitions with a submission in flight is concurrent.
 */
final class ReplicaEvacuator {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaEvacuator.class);

  private final RaftNode raft;
  private final MetadataService metadata;
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

  ReplicaEvacuator(RaftNode raft, MetadataService metadata) {
    this.raft = raft;
    this.metadata = metadata;
  }

  void check() {
    final MetadataImage image = metadata.image();
    if (image.brokers().values().stream().noneMatch(b -> b.state() == BrokerState.DRAINING)) {
      return;
    }
    for (ReplicatedPartition replica : raft.partitions()) {
      final TopicInfo topic = image.topics().get(replica.id().topic());
      if (!replica.isLeader() || topic == null || !topic.id().equals(replica.id().topicId())) {
        continue;
      }
      final int p = replica.id().partition();
      if (topic.reassignmentOf(p).isEmpty()) {
        DrainPlanner.target(image, topic.replicasOf(p)).ifPresent(t -> move(topic, p, t));
      }
    }
  }

  private void move(TopicInfo topic, int partition, List<Integer> target) {
    final String key = topic.name() + "-" + partition;
    if (!inFlight.add(key)) {
      return;
    }
    LOG.info("Moving {} off draining brokers: {} -> {}", key, topic.replicasOf(partition), target);
    metadata
        .alterReassignment(topic.name(), partition, target)
        .whenComplete(
            (ok, error) -> {
              inFlight.remove(key);
              if (error != null) {
                LOG.warn(
                    "Could not start moving {} to {} (retried): {}",
                    key,
                    target,
                    error.getMessage());
              }
            });
  }
}
