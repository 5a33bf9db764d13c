package io.skiff.raft.membership;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.MetadataService;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the partition reassignments recorded in the metadata, for the partitions this broker
 * leads. The partition's leader is the one broker that can change its Raft configuration without a
 * redirect, and every broker knows from its own replica whether it leads, so no other coordination
 * is needed: when leadership moves, the next leader finds the reassignment still in the metadata
 * and resumes it, and the steps of {@link PartitionMembership#reassign} are safe to repeat.
 *
 * <p>Every second, on the thread {@code skiff-reassignment-driver}, it scans the metadata image:
 *
 * <ol>
 *   <li>for each reassigned partition led here, it adds the target's new replicas as listeners,
 *       waits for them to catch up, and makes the target the voters in one configuration change
 *       (the group keeps a majority of caught-up voters throughout), then records the switch with
 *       {@link MetadataService#completeReassignment}; the brokers left out then delete their
 *       replicas ({@link PartitionReconciler});
 *   <li>if the reassignment was cancelled or replaced while its replicas caught up, the listeners
 *       are dropped and the voters stay;
 *   <li>for each partition led here with no reassignment, leftover listeners (of a reassignment
 *       cancelled while another broker led) are dropped.
 * </ol>
 *
 * <p>One partition is worked on at a time; a failure is logged and retried on the next scan.
 * Thread-safe: all work happens on its thread; the counters are atomics.
 */
public final class ReassignmentDriver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReassignmentDriver.class);
  private static final long SCAN_INTERVAL_MS = 1000;
  private static final long COMPLETE_TIMEOUT_S = 30;

  private final RaftNode node;
  private final MetadataService metadata;
  private final Duration catchUpTimeout;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "skiff-reassignment-driver"));
  private final AtomicLong scans = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();

  /**
   * @param catchUpTimeout how long new replicas may take to catch up in one attempt; a slower
   *     catch-up goes on in the next attempt, from where it got
   */
  public ReassignmentDriver(RaftNode node, MetadataService metadata, Duration catchUpTimeout) {
    this.node = node;
    this.metadata = metadata;
    this.catchUpTimeout = catchUpTimeout;
  }

  public void start() {
    executor.scheduleWithFixedDelay(
        this::scan, SCAN_INTERVAL_MS, SCAN_INTERVAL_MS, TimeUnit.MILLISECONDS);
  }

  /** Scans done so far (a gauge that shows the thread is alive). */
  public long scans() {
    return scans.get();
  }

  /** Reassignments this broker completed. */
  public long completed() {
    return completed.get();
  }

  private void scan() {
    try {
      final MetadataImage image = metadata.image();
      for (TopicInfo topic : image.topics().values()) {
        for (int p = 0; p < topic.partitionCount(); p++) {
          final Optional<List<Integer>> target = topic.reassignmentOf(p);
          if (leadsHere(topic.partition(p))) {
            if (target.isPresent()) {
              drive(image, topic, p, target.get());
            } else {
              node.membership().dropListeners(topic.partition(p));
            }
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      LOG.warn("Reassignment scan failed; retrying in {} ms: {}", SCAN_INTERVAL_MS, e.toString());
    } finally {
      scans.incrementAndGet();
    }
  }

  private boolean leadsHere(PartitionId id) {
    return node.partition(id).map(ReplicatedPartition::isLeaderReady).orElse(false);
  }

  private void drive(MetadataImage image, TopicInfo topic, int partition, List<Integer> target)
      throws InterruptedException {
    final PartitionId id = topic.partition(partition);
    try {
      final boolean switched =
          node.membership()
              .reassign(
                  id,
                  peers(image, target),
                  catchUpTimeout,
                  () -> target.equals(currentTarget(id).orElse(null)));
      if (switched) {
        metadata
            .completeReassignment(topic.name(), partition, target)
            .get(COMPLETE_TIMEOUT_S, TimeUnit.SECONDS);
        completed.incrementAndGet();
        LOG.info("Reassignment of {} to brokers {} complete", id, target);
      }
    } catch (IOException | ExecutionException | TimeoutException e) {
      LOG.warn("Reassignment of {} to brokers {} will be retried: {}", id, target, e.toString());
    }
  }

  /** The target the metadata holds now for the partition (it may have been cancelled). */
  private Optional<List<Integer>> currentTarget(PartitionId id) {
    return metadata
        .image()
        .topic(id.topic())
        .filter(t -> Objects.equals(t.id(), id.topicId()))
        .flatMap(t -> t.reassignmentOf(id.partition()));
  }

  private static List<RaftPeer> peers(MetadataImage image, List<Integer> replicas) {
    final Map<Integer, BrokerInfo> brokers = image.brokers();
    final List<RaftPeer> peers = new ArrayList<>(replicas.size());
    for (int nodeId : replicas) {
      peers.add(RaftNode.peer(nodeId, brokers.get(nodeId).raftAddress()));
    }
    return peers;
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("Reassignment driver still busy after 10 s; abandoning it");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
