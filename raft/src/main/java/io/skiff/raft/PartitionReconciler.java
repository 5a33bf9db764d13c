package io.skiff.raft;

import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this broker host exactly the partition replicas the metadata assigns to it: on every new
 * {@link MetadataImage} it creates the Raft groups of partitions newly assigned here and removes
 * (with their data) those of deleted topics. Work runs on one named thread, {@code
 * skiff-partition-reconciler}, never on the metadata apply thread; images that arrive while it is
 * busy collapse into the latest.
 *
 * <p>Replica moves of existing partitions are not its job: they go through {@link
 * PartitionMembership}, which keeps the group's majority safe.
 */
public final class PartitionReconciler implements Consumer<MetadataImage>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionReconciler.class);

  private final RaftNode node;
  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "skiff-partition-reconciler"));
  private final AtomicReference<MetadataImage> pending = new AtomicReference<>();
  private final Set<PartitionId> hosted = new HashSet<>(); // reconciler thread only
  private final AtomicLong reconciledIndex = new AtomicLong(-1);

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
      reconcile(image);
      reconciledIndex.set(image.appliedIndex());
    }
  }

  private void reconcile(MetadataImage image) {
    final int self = node.config().nodeId();
    final Set<PartitionId> wanted = new HashSet<>();
    for (TopicInfo topic : image.topics().values()) {
      for (int p = 0; p < topic.partitionCount(); p++) {
        final List<Integer> replicas = topic.replicasOf(p);
        if (!replicas.contains(self)) {
          continue;
        }
        final PartitionId id = topic.partition(p);
        wanted.add(id);
        if (!hosted.contains(id) && node.partition(id).isEmpty()) {
          create(id, peers(image, replicas));
        }
        hosted.add(id);
      }
    }
    for (PartitionId id : new ArrayList<>(hosted)) {
      if (!wanted.contains(id) && image.topic(id.topic()).isEmpty()) {
        remove(id);
      }
    }
  }

  private void create(PartitionId id, List<RaftPeer> peers) {
    try {
      node.createPartition(id, peers);
      LOG.info("Hosting a replica of {} with peers {}", id, peers);
    } catch (Exception e) {
      LOG.error("Cannot create the replica of {}; will retry on the next metadata change", id, e);
    }
  }

  private void remove(PartitionId id) {
    try {
      node.removePartition(id, true);
      hosted.remove(id);
      LOG.info("Removed the replica of deleted partition {}", id);
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
