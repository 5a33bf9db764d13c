package io.skiff.broker;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.BrokerState;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.partition.ReplicatedPartition;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Keeps a broker in maintenance leaderless: on every {@link #check} (the broker's scheduler, every
 * second), if the metadata says this broker is {@link BrokerState#MAINTENANCE} and it leads a
 * partition — because maintenance was just switched on, or an election picked it — it hands those
 * leaderships to other replicas through a {@link LeadershipDrain}. Its replicas stay and keep
 * following (a partition with a single replica stays led here: there is nobody to take it). When
 * maintenance is switched off, it asks the {@link PreferredLeaderElector} at once to bring its
 * preferred leaderships back.
 *
 * <p>Thread-safe: at most one round of transfers runs at a time; a check while one runs is a no-op.
 */
final class MaintenanceMode {
  private final int nodeId;
  private final RaftNode raft;
  private final Supplier<MetadataImage> image;
  private final LeadershipDrain drain;
  private final Runnable reclaimLeaderships;
  private boolean wasInMaintenance;
  private final AtomicReference<CompletableFuture<Void>> round =
      new AtomicReference<>(CompletableFuture.completedFuture(null));

  /**
   * @param reclaimLeaderships run once when maintenance ends (a preferred-leader check)
   */
  MaintenanceMode(
      int nodeId,
      RaftNode raft,
      Supplier<MetadataImage> image,
      LeadershipDrain drain,
      Runnable reclaimLeaderships) {
    this.nodeId = nodeId;
    this.raft = raft;
    this.image = image;
    this.drain = drain;
    this.reclaimLeaderships = reclaimLeaderships;
  }

  /** One check; called from one thread at a time (the broker's scheduler). */
  synchronized void check() {
    final boolean inMaintenance =
        image.get().broker(nodeId).map(b -> b.state() == BrokerState.MAINTENANCE).orElse(false);
    if (wasInMaintenance && !inMaintenance) {
      reclaimLeaderships.run();
    }
    wasInMaintenance = inMaintenance;
    if (!inMaintenance || !round.get().isDone()) {
      return;
    }
    if (raft.partitions().stream().anyMatch(ReplicatedPartition::isLeader)) {
      round.set(drain.handOverAll()); // skips single-replica partitions, so this stays quiet
    }
  }
}
