package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.LogConfig;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention runs on every replica while a follower is down: it must keep the segments the Raft log
 * still refers to, so the leader can send the follower every entry it missed, and still make
 * progress as snapshots let the Raft log be purged.
 */
class RetentionBehindRaftTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void retentionKeepsWhatTheRaftLogStillNeedsSoALaggingFollowerCatchesUp() throws Exception {
    final LogConfig smallSegments =
        LogConfig.builder().segmentBytes(4096).retentionBytes(8192).build();
    try (RaftCluster cluster = RaftCluster.keepingTheRaftLog(dir, smallSegments)) {
      final PartitionId id = RaftCluster.newPartition("metrics", 0);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(20);
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int lagging = leader == 3 ? 2 : 3;
      cluster.stop(lagging);
      workload.produce(280);

      for (int node : cluster.runningIds()) {
        cluster.replica(node, id).applyRetention();
      }
      final ReplicatedPartition leading = cluster.leader(id, WAIT);
      assertThat(leading.logStartOffset())
          .as("retention deleted what the purged Raft log no longer refers to")
          .isPositive();

      cluster.start(lagging);
      workload.produce(20);
      final long hw = cluster.leader(id, WAIT).highWatermark();
      cluster.awaitHighWatermark(id, hw, WAIT);
      long from = 0;
      for (int node : cluster.runningIds()) {
        from = Math.max(from, cluster.replica(node, id).logStartOffset());
      }
      final byte[] reference = bytes(cluster.leader(id, WAIT), from, hw);
      assertThat(reference).isNotEmpty();
      for (int node : cluster.runningIds()) {
        assertThat(bytes(cluster.replica(node, id), from, hw))
            .as("node %d from offset %d", node, from)
            .isEqualTo(reference);
      }
    }
  }

  /** The replica's log bytes from the batch holding {@code from} up to {@code upTo}. */
  private static byte[] bytes(ReplicatedPartition replica, long from, long upTo) throws Exception {
    final byte[] all = RaftCluster.logBytes(replica, upTo);
    long offset = replica.logStartOffset();
    int position = 0;
    while (offset < from && position < all.length) {
      final java.nio.ByteBuffer batch =
          java.nio.ByteBuffer.wrap(all, position, all.length - position);
      final long base = batch.getLong(position);
      final int length = batch.getInt(position + 8) + 12;
      final int lastDelta = batch.getInt(position + 23);
      if (base + lastDelta + 1 > from) {
        break;
      }
      offset = base + lastDelta + 1;
      position += length;
    }
    return Arrays.copyOfRange(all, position, all.length);
  }
}
