package io.skiff.broker.api;

import io.skiff.raft.RaftNode;
import io.skiff.raft.membership.PartitionMembership;
import io.skiff.raft.membership.PartitionMembership.LeaderEpoch;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.ratis.protocol.RaftPeer;

/**
 * Who leads the partitions this broker does not host, for Metadata, FindCoordinator and
 * NOT_LEADER_OR_FOLLOWER answers. Leadership is not in the metadata log, so it is asked of the
 * partition's replicas ({@link PartitionMembership#findLeader}) and kept for {@value #FRESH_MS} ms.
 * A request never waits for that: a missing or stale entry is refreshed in the background on {@code
 * skiff-leader-lookup}, one lookup per partition at a time, and until an answer arrives the last
 * known leader, or else the preferred replica, is named (clients correct themselves on
 * NOT_LEADER_OR_FOLLOWER). A lookup that found no leader (every replica down or without one) is not
 * repeated for {@value #RETRY_MS} ms: clients retrying their Metadata requests many times a second
 * while a broker is down would otherwise connect to it just as often.
 *
 * <p>Thread-safe. The owner closes it, which stops the lookup thread.
 */
public final class RemoteLeaders implements AutoCloseable {
  static final long FRESH_MS = 2_000;

  /** How long after a lookup that found no leader the next one waits. */
  static final long RETRY_MS = 1_000;

  private static final int MAX_ENTRIES = 100_000;

  private record Known(int leader, long epoch, long atNanos) {}

  private final PartitionMembership membership;
  private final Supplier<MetadataImage> image;
  private final ConcurrentHashMap<PartitionId, Known> known = new ConcurrentHashMap<>();
  private final Set<PartitionId> inFlight = ConcurrentHashMap.newKeySet();

  /** When a lookup of each partition last found no leader; removed when one finds a leader. */
  private final ConcurrentHashMap<PartitionId, Long> notFound = new ConcurrentHashMap<>();

  private final AtomicLong lookups = new AtomicLong();
  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(
          r -> {
            final Thread t = new Thread(r, "skiff-leader-lookup");
            t.setDaemon(true);
            return t;
          });

  public RemoteLeaders(PartitionMembership membership, Supplier<MetadataImage> image) {
    this.membership = membership;
    this.image = image;
  }

  /**
   * The leader of a partition hosted elsewhere and its epoch, as its replicas last told them; the
   * preferred replica with epoch -1 while none has. Clients take -1 as "unknown" and forget the
   * epoch they knew, so a known one is always told: a client that knows a newer one keeps it.
   */
  public LeaderEpoch leader(TopicInfo topic, int partition) {
    final Known entry = lookUp(topic, partition);
    return entry != null
        ? new LeaderEpoch(entry.leader(), entry.epoch())
        : new LeaderEpoch(topic.replicasOf(partition).get(0), -1);
  }

  private Known lookUp(TopicInfo topic, int partition) {
    final PartitionId id = topic.partition(partition);
    final Known entry = known.get(id);
    final long now = System.nanoTime();
    if (entry == null || now - entry.atNanos() > TimeUnit.MILLISECONDS.toNanos(FRESH_MS)) {
      final Long missed = notFound.get(id);
      if (missed == null || now - missed > TimeUnit.MILLISECONDS.toNanos(RETRY_MS)) {
        refresh(id, topic.replicasOf(partition));
      }
    }
    return entry;
  }

  /** Lookups made (a counter: the background thread is alive and working). */
  public long lookups() {
    return lookups.get();
  }

  private void refresh(PartitionId id, List<Integer> replicas) {
    if (!inFlight.add(id)) {
      return;
    }
    try {
      executor.execute(() -> ask(id, replicas));
    } catch (RejectedExecutionException e) {
      inFlight.remove(id); // closing
    }
  }

  private void ask(PartitionId id, List<Integer> replicas) {
    try {
      lookups.incrementAndGet();
      final Optional<LeaderEpoch> leader = membership.findLeader(id, peers(replicas));
      if (leader.isPresent()) {
        if (known.size() >= MAX_ENTRIES) {
          known.clear(); // partitions of deleted topics would otherwise stay forever
        }
        known.put(id, new Known(leader.get().nodeId(), leader.get().epoch(), System.nanoTime()));
        notFound.remove(id);
      } else {
        if (notFound.size() >= MAX_ENTRIES) {
          notFound.clear();
        }
        notFound.put(id, System.nanoTime());
      }
    } finally {
      inFlight.remove(id);
    }
  }

  private List<RaftPeer> peers(List<Integer> replicas) {
    final MetadataImage current = image.get();
    final List<RaftPeer> peers = new ArrayList<>();
    for (int nodeId : replicas) {
      current
          .broker(nodeId)
          .map(BrokerInfo::raftAddress)
          .ifPresent(address -> peers.add(RaftNode.peer(nodeId, address)));
    }
    return peers;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
