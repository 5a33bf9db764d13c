package io.skiff.broker;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first step of a graceful shutdown: every partition this broker leads hands its leadership to
 * another of its replicas (in the partition's preference order) through a Raft leadership transfer,
 * which Ratis completes only once the new leader holds every entry of the old one. Clients see one
 * NOT_LEADER_OR_FOLLOWER per partition and follow the new leader; nothing waits for an election
 * timeout, as it would if the broker just died.
 *
 * <p>Also the means of maintenance mode ({@link MaintenanceMode}), which calls {@link #handOverAll}
 * without waiting. Targets in maintenance themselves are tried last.
 *
 * <p>Transfers run on the given executor, all partitions at once; {@link #drain} blocks the calling
 * (shutdown) thread until they finish or the timeout passes. Thread-safe; holds no state.
 */
final class LeadershipDrain {
  private static final Logger LOG = LoggerFactory.getLogger(LeadershipDrain.class);
  private static final Duration TRANSFER_TIMEOUT = Duration.ofSeconds(5);

  private final int nodeId;
  private final RaftNode raft;
  private final Supplier<MetadataImage> image;
  private final Executor executor;

  LeadershipDrain(int nodeId, RaftNode raft, Supplier<MetadataImage> image, Executor executor) {
    this.nodeId = nodeId;
    this.raft = raft;
    this.image = image;
    this.executor = executor;
  }

  /**
   * Moves every leadership held here to another replica, waiting at most {@code timeout}.
   *
   * @return the number of partitions still led here (0 when the drain completed)
   */
  int drain(Duration timeout) throws InterruptedException {
    final CompletableFuture<Void> transfers = handOverAll();
    if (transfers.isDone()) {
      return 0;
    }
    try {
      transfers.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      // Counted below; the partitions left fail over by election once this broker stops.
    }
    final long left = raft.partitions().stream().filter(ReplicatedPartition::isLeader).count();
    if (left > 0) {
      LOG.warn(
          "Broker {} still leads {} partitions after {} ms; they fail over by election",
          nodeId,
          left,
          timeout.toMillis());
    }
    return (int) left;
  }

  /**
   * Starts handing every leadership held here to another replica, without waiting.
   *
   * @return completes when every transfer has been tried (done at once if nothing is led here)
   */
  CompletableFuture<Void> handOverAll() {
    final List<CompletableFuture<Void>> transfers = new ArrayList<>();
    for (ReplicatedPartition replica : raft.partitions()) {
      if (replica.isLeader()) {
        final List<Integer> targets = followers(replica.id());
        if (targets.isEmpty()) {
          continue; // a single replica: nobody to hand it to
        }
        transfers.add(CompletableFuture.runAsync(() -> handOver(replica.id(), targets), executor));
      }
    }
    if (!transfers.isEmpty()) {
      LOG.info("Broker {} hands over {} partition leaderships", nodeId, transfers.size());
    }
    return CompletableFuture.allOf(transfers.toArray(CompletableFuture[]::new));
  }

  /**
   * The partition's other replicas, preferred first; brokers that may not lead (in maintenance)
   * only if no other replica is left.
   */
  private List<Integer> followers(PartitionId id) {
    final MetadataImage snapshot = image.get();
    final TopicInfo topic = snapshot.topics().get(id.topic());
    if (topic == null || !topic.id().equals(id.topicId())) {
      return List.of();
    }
    final List<Integer> others =
        topic.replicasOf(id.partition()).stream().filter(n -> n != nodeId).toList();
    final List<Integer> leaders = new ArrayList<>();
    final List<Integer> last = new ArrayList<>();
    for (int n : others) {
      final boolean mayLead = snapshot.broker(n).map(b -> b.state().mayLead()).orElse(false);
      (mayLead ? leaders : last).add(n);
    }
    leaders.addAll(last);
    return leaders;
  }

  private void handOver(PartitionId id, List<Integer> targets) {
    for (int target : targets) {
      try {
        raft.membership().transferLeadership(id, target, TRANSFER_TIMEOUT);
        return;
      } catch (IOException | RuntimeException e) {
        LOG.debug("Leadership of {} did not move to broker {}: {}", id, target, e.toString());
      }
      if (!raft.partition(id).map(ReplicatedPartition::isLeader).orElse(false)) {
        return; // an election or another transfer got there first
      }
    }
    LOG.warn("No replica of {} took leadership from broker {}", id, nodeId);
  }
}
