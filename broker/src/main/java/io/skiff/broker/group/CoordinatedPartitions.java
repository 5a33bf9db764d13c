package io.skiff.broker.group;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.ReplicatedPartition;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code __consumer_offsets} partitions this broker leads, kept in step with Raft leadership:
 * {@link #poll} (on the coordinator's timer thread) starts loading a partition this broker came to
 * lead, in a new epoch, on {@code skiff-group-loader}, and drops the groups of one it no longer
 * leads (their offsets leave the cache; waiting members are told NOT_COORDINATOR). Thread-safe: a
 * concurrent map; installing a loaded partition and unloading it are serialised on the partition.
 */
final class CoordinatedPartitions implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CoordinatedPartitions.class);

  private final RaftNode raft;
  private final GroupConfig config;
  private final OffsetCache cache;
  private final CoordinatorLog log;
  private final ExecutorService loader;
  private final Map<Integer, OffsetsPartition> partitions = new ConcurrentHashMap<>();

  CoordinatedPartitions(RaftNode raft, GroupConfig config, OffsetCache cache, CoordinatorLog log) {
    this.raft = raft;
    this.config = config;
    this.cache = cache;
    this.log = log;
    this.loader =
        Executors.newSingleThreadExecutor(
            r -> {
              final Thread t = new Thread(r, "skiff-group-loader");
              t.setDaemon(true);
              return t;
            });
  }

  OffsetsPartition get(int index) {
    return partitions.get(index);
  }

  Collection<OffsetsPartition> values() {
    return partitions.values();
  }

  int size() {
    return partitions.size();
  }

  /** A new, empty group of {@code partition}. */
  ClassicGroup newGroup(OffsetsPartition partition, String groupId) {
    return new ClassicGroup(groupId, config, log.store(partition));
  }

  /** Loads offsets partitions this broker came to lead, unloads those it no longer leads. */
  void poll(TopicInfo topic) {
    for (int p = 0; p < topic.partitionCount(); p++) {
      final Optional<ReplicatedPartition> replica = raft.partition(topic.partition(p));
      final OffsetsPartition current = partitions.get(p);
      if (replica.isPresent() && replica.get().isLeaderReady()) {
        final long epoch = replica.get().leaderEpoch();
        if (current == null || current.epoch != epoch || current.replica != replica.get()) {
          if (current != null) {
            unload(current);
          }
          final OffsetsPartition loading = new OffsetsPartition(p, replica.get(), epoch);
          partitions.put(p, loading);
          loader.execute(() -> load(loading));
        }
      } else if (current != null) {
        unload(current);
      }
    }
  }

  private void load(OffsetsPartition partition) {
    final long start = System.nanoTime();
    try {
      final OffsetsLoader.Replayed replayed = OffsetsLoader.load(partition);
      if (replayed == null || !install(partition, replayed)) {
        return;
      }
      LOG.info(
          "Coordinating offsets partition {} (epoch {}): {} groups, {} records replayed in {} ms",
          partition.index,
          partition.epoch,
          partition.groups.size(),
          replayed.records,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    } catch (Exception e) {
      LOG.error(
          "Loading offsets partition {} failed; it is retried when leadership changes",
          partition.index,
          e);
    }
  }

  /** Installs a replayed log unless the partition was unloaded meanwhile. */
  private boolean install(OffsetsPartition partition, OffsetsLoader.Replayed replayed) {
    synchronized (partition) {
      if (partitions.get(partition.index) != partition) {
        return false;
      }
      final long now = System.currentTimeMillis();
      replayed.groups.forEach(
          (id, meta) ->
              partition.groups.put(
                  id, ClassicGroup.restore(id, config, log.store(partition), meta, now)));
      replayed.offsets.forEach(
          (id, offsets) -> {
            partition.groups.computeIfAbsent(id, g -> newGroup(partition, g));
            offsets.forEach((tp, offset) -> cache.put(id, tp, offset));
          });
      partition.markLoaded();
      return true;
    }
  }

  private void unload(OffsetsPartition partition) {
    synchronized (partition) {
      partitions.remove(partition.index, partition);
      for (ClassicGroup group : partition.groups.values()) {
        group.markDead(Errors.NOT_COORDINATOR);
        cache.removeGroup(group.groupId());
      }
      partition.groups.clear();
    }
    LOG.info("No longer coordinating offsets partition {}", partition.index);
  }

  @Override
  public void close() {
    loader.shutdownNow();
  }
}
