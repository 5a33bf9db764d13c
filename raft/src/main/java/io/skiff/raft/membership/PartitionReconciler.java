package io.skiff.raft.membership;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this broker host exactly the partition replicas the metadata assigns to it: on every new
 * {@link MetadataImage} it creates the Raft groups of partitions newly assigned here, joins as a
 * non-voting listener the groups of partitions being reassigned onto this broker, and removes (with
 * their data) the replicas of deleted topics and of partitions moved away from here. A moved-away
 * replica goes only once the group's leader confirms its configuration no longer names this broker;
 * until then it is kept and checked again every few seconds. Replicas found running after a restart
 * count as hosted, so a topic deleted while this broker was down goes too; removals come before
 * creations, so a new topic of a deleted one's name never meets the old replica's log directory.
 * Work runs on one named thread, {@code skiff-partition-reconciler}, never on the metadata apply
 * thread; images that arrive while it is busy collapse into the latest.
 *
 * <p>Membership changes themselves are not its job: {@link ReassignmentDriver} makes them through
 * {@link PartitionMembership}, which keeps the group's majority safe.
 */
public final class PartitionReconciler implements Consumer<MetadataImage>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionReconciler.class);
  private static final long RETRY_MS = 2000;

  private final RaftNode node;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "skiff-partition-reconciler"));
  private final AtomicReference<MetadataImage> pending = new AtomicReference<>();
  private final Set<PartitionId> hosted = new HashSet<>(); // reconciler thread only
  private final AtomicLong reconciledIndex = new AtomicLong(-1);
  private boolean retryScheduled; // reconciler thread only
  private MetadataImage latest; // reconciler thread only: the newest image taken from pending

  public PartitionReconciler(RaftNode node) {
    this.node = node;
  }

  /** The metadata index last reconciled (a gauge; lags the image while work is under way). */
  public long reconciledIndex() {
    return reconciledIndex.get();
  }

  @Override
  public void accept(MetadataImage image) {
    if (pending.getAndSet(image) == null) {
      executor.execute(this::drain);
    }
  }

  private void drain() {
    MetadataImage image;
    while ((image = pending.getAndSet(null)) != null) {
      latest = image;
      if (!reconcileLogged(image) && !retryScheduled) {
        retryScheduled = true;
        executor.schedule(this::retry, RETRY_MS, TimeUnit.MILLISECONDS);
      }
      reconciledIndex.set(image.appliedIndex());
    }
  }

  /**
   * Reconciles the latest image again unless a newer one came meanwhile (then that one is being
   * reconciled). Never an older one: an image from before a replica was assigned here would remove
   * the replica just created for it.
   */
  private void retry() {
    retryScheduled = false;
    pending.compareAndSet(null, latest);
    drain();
  }

  /**
   * {@link #reconcile}, with anything unexpected logged and retried: an exception let out of here
   * would vanish into the executor's future and leave the reconciler idle until the next metadata
   * change, however long that takes.
   */
  private boolean reconcileLogged(MetadataImage image) {
    try {
      return reconcile(image);
    } catch (RuntimeException e) {
      LOG.error(
          "Reconciling metadata image {} failed; retrying in {} ms",
          image.appliedIndex(),
          RETRY_MS,
          e);
      return false;
    }
  }

  /**
   * Removes first, then creates: a deleted topic's replica must free its log directory before a new
   * topic of the same name can have it.
   *
   * @return false if some replica must be looked at again later
   */
  private boolean reconcile(MetadataImage image) {
    for (ReplicatedPartition replica : node.partitions()) {
      hosted.add(replica.id()); // left over from before a restart, a move or a deletion
    }
    final Map<PartitionId, List<Integer>> wanted = wanted(image);
    boolean done = true;
    for (PartitionId id : new ArrayList<>(hosted)) {
      if (!wanted.containsKey(id)) {
        done &= removeIfGone(image, id);
      }
    }
    for (Map.Entry<PartitionId, List<Integer>> e : wanted.entrySet()) {
      final PartitionId id = e.getKey();
      if (hosted.contains(id) || node.partition(id).isPresent()) {
        hosted.add(id);
        continue;
      }
      final List<Integer> replicas = e.getValue();
      if (create(id, peers(image, replicas), replicas.contains(node.config().nodeId()))) {
        hosted.add(id);
      } else {
        done = false; // try again shortly: no later metadata change may come
      }
    }
    return done;
  }

  /** The partitions this broker should host, each with its voters; joining ones included. */
  private Map<PartitionId, List<Integer>> wanted(MetadataImage image) {
    final int self = node.config().nodeId();
    final Map<PartitionId, List<Integer>> wanted = new LinkedHashMap<>();
    for (TopicInfo topic : image.topics().values()) {
      for (int p = 0; p < topic.partitionCount(); p++) {
        final List<Integer> replicas = topic.replicasOf(p);
        if (replicas.contains(self) || topic.addingOf(p).contains(self)) {
          wanted.put(topic.partition(p), replicas);
        }
      }
    }
    return wanted;
  }

  /** Removes a replica no longer wanted here once it is safe; false to look again later. */
  private boolean removeIfGone(MetadataImage image, PartitionId id) {
    final boolean deleted =
        image.topic(id.topic()).filter(t -> t.id().equals(id.topicId())).isEmpty();
    if (deleted) {
      remove(id, "deleted partition");
      return true;
    }
    try {
      if (node.membership().configurationIncludesSelf(id)) {
        return false;
      }
    } catch (IOException e) {
      LOG.debug("Keeping the replica of {} for now: {}", id, e.getMessage());
      return false;
    } catch (RuntimeException e) {
      // one replica that cannot be checked must not hold up the creation of the others
      LOG.warn("Keeping the replica of {} for now: cannot tell whether it left", id, e);
      return false;
    }
    remove(id, "partition moved to other brokers");
    return true;
  }

  /**
   * Creates the replica, as a voter if a member, else as a listener joining for a move.
   *
   * @return false if it failed (logged; the caller retries)
   */
  private boolean create(PartitionId id, List<RaftPeer> peers, boolean member) {
    try {
      if (member) {
        node.createPartition(id, peers);
      } else {
        node.joinPartition(id, peers);
      }
      LOG.info("Hosting a replica of {} with peers {}{}", id, peers, member ? "" : " (joining)");
      return true;
    } catch (Exception e) {
      LOG.warn(
          "Cannot create the replica of {} yet ({}); retrying in {} ms",
          id,
          e.toString(),
          RETRY_MS);
      return false;
    }
  }

  private void remove(PartitionId id, String why) {
    try {
      node.removePartition(id, true);
      hosted.remove(id);
      LOG.info("Removed the replica of {} (topic id {}): {}", id, id.topicId(), why);
    } catch (Exception e) {
      LOG.error("Cannot remove the replica of {}; will retry on the next metadata change", id, e);
    }
  }

  private static List<RaftPeer> peers(MetadataImage image, List<Integer> replicas) {
    final List<RaftPeer> peers = new ArrayList<>();
    for (int nodeId : replicas) {
      final BrokerInfo broker = image.broker(nodeId).orElseThrow();
      peers.add(RaftNode.peer(nodeId, broker.raftAddress()));
    }
    return peers;
  }

  @Override
  public void close() {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("Partition reconciler still busy after 10 s; abandoning it");
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
