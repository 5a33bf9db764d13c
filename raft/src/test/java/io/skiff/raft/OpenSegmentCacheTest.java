package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.partition.PartitionId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.IntStream;
import org.apache.ratis.server.metrics.SegmentedRaftLogMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ratis drops the entries of a group's open log segment from its cache once they are flushed,
 * applied and on every follower (Ratis patch 0021). A replica added later needs them all: the
 * leader reads them back from the segment file, one at a time, and the new replica ends up with the
 * same log.
 */
class OpenSegmentCacheTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int BATCHES = 400;

  @TempDir Path dir;

  @Test
  void aReplicaAddedLaterCatchesUpFromEntriesNoLongerCached() throws Exception {
    // No snapshot, so nothing is purged: the new replica gets every entry through Ratis.
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c.withSnapshotEntries(1_000_000))) {
      final PartitionId id = RaftCluster.newPartition("archive", 0);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(BATCHES);

      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final long missesBefore = cacheMisses(cluster, leader);
      final int leaving = leader == 1 ? 2 : 1;
      final int[] staying = IntStream.of(1, 2, 3).filter(n -> n != leaving).toArray();
      cluster.addNode(4).joinPartition(id, cluster.peers(1, 2, 3));
      cluster
          .node(leader)
          .membership()
          .reassign(id, cluster.peers(staying[0], staying[1], 4), WAIT);
      cluster.node(leaving).removePartition(id, true);
      cluster.stop(leaving);

      workload.produce(20);
      workload.assertReplicasIdentical();
      assertThat(cluster.replica(4, id).highWatermark())
          .isGreaterThanOrEqualTo(workload.highestAcknowledgedEnd());
      // Read back from the file, not from a cache that still held everything.
      assertThat(cacheMisses(cluster, leader) - missesBefore)
          .as("entries the leader read from its log file for the new replica")
          .isGreaterThanOrEqualTo(BATCHES / 2);
    }
  }

  /** Ratis' log cache misses on a node, over all its groups. */
  private static long cacheMisses(RaftCluster cluster, int node) {
    return cluster.ratisRegistries(node, "log_worker").stream()
        .mapToLong(r -> r.counter(SegmentedRaftLogMetrics.RAFT_LOG_CACHE_MISS_COUNT).getCount())
        .sum();
  }
}
