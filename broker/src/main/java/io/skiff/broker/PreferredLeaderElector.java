package io.skiff.broker;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's {@code auto.leader.rebalance.enable} from the preferred replica's side: every {@code
 * leader.imbalance.check.interval.seconds} (and once shortly after start, which is what brings a
 * restarted broker its leaderships back), each partition hosted here whose preferred (first)
 * replica is this broker but which another replica leads is asked to hand leadership back. The Raft
 * leadership transfer waits until this replica holds every entry of the current leader, so a broker
 * that restarted behind takes a partition only once it has caught up; a transfer that times out is
 * retried at the next check.
 *
 * <p>A broker in maintenance asks for nothing; when maintenance is switched off, the next check
 * brings its preferred leaderships back.
 *
 * <p>{@link #check} runs on the scheduler thread and only queues transfers on the election
 * executor, at most one round at a time. Thread-safe.
 */
final class PreferredLeaderElector {
  private static final Logger LOG = LoggerFactory.getLogger(PreferredLeaderElector.class);
  private static final Duration TRANSFER_TIMEOUT = Duration.ofSeconds(8);

  private final int nodeId;
  private final RaftNode raft;
  private final Supplier<MetadataImage> image;
  private final Executor executor;
  private final AtomicBoolean running = new AtomicBoolean();
  private volatile boolean stopped;

  PreferredLeaderElector(
      int nodeId, RaftNode raft, Supplier<MetadataImage> image, Executor executor) {
    this.nodeId = nodeId;
    this.raft = raft;
    this.image = image;
    this.executor = executor;
  }

  /** No further transfers towards this broker (it is shutting down). */
  void stop() {
    stopped = true;
  }

  /** Queues one round of transfers, unless the previous round is still running. */
  void check() {
    if (stopped || !running.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(this::electRound);
    } catch (RuntimeException e) {
      running.set(false); // executor shut down
    }
  }

  private void electRound() {
    try {
      final MetadataImage snapshot = image.get();
      if (!snapshot.broker(nodeId).map(b -> b.state().mayLead()).orElse(true)) {
        return; // in maintenance: leads nothing until it is switched off
      }
      for (ReplicatedPartition replica : raft.partitions()) {
        if (stopped) {
          return;
        }
        final Optional<List<RaftPeer>> peers = preferredHere(snapshot, replica);
        if (peers.isPresent()) {
          elect(replica.id(), peers.get());
        }
      }
    } finally {
      running.set(false);
    }
  }

  /** The replicas as Raft peers if this broker is the preferred one yet does not lead. */
  private Optional<List<RaftPeer>> preferredHere(MetadataImage snapshot, ReplicatedPartition r) {
    final PartitionId id = r.id();
    final TopicInfo topic = snapshot.topics().get(id.topic());
    if (topic == null
        || !topic.id().equals(id.topicId())
        || topic.reassignmentOf(id.partition()).isPresent()
        || r.isLeader()
        || r.leaderNodeId().isEmpty()) {
      return Optional.empty();
    }
    final List<Integer> replicas = topic.replicasOf(id.partition());
    if (replicas.isEmpty() || replicas.get(0) != nodeId) {
      return Optional.empty();
    }
    final List<RaftPeer> peers = new ArrayList<>();
    for (int broker : replicas) {
      final Optional<BrokerInfo> info = snapshot.broker(broker);
      if (info.isEmpty()) {
        return Optional.empty();
      }
      peers.add(RaftNode.peer(broker, info.get().raftAddress()));
    }
    return Optional.of(peers);
  }

  private void elect(PartitionId id, List<RaftPeer> peers) {
    try {
      raft.membership().electPreferred(id, peers, TRANSFER_TIMEOUT);
    } catch (IOException | RuntimeException e) {
      LOG.info("Broker {} will ask for leadership of {} again: {}", nodeId, id, e.getMessage());
    }
  }
}
