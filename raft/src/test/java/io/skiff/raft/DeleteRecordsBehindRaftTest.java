package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.log.LogConfig;
import io.skiff.log.OffsetOutOfRangeException;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DeleteRecords while a follower is down: consumers see the new log start at once, as in Kafka, but
 * every replica keeps the segments its Raft log still refers to, so the leader can send the
 * returning follower every entry it missed; retention deletes them once snapshots let the Raft log
 * be purged past them.
 */
class DeleteRecordsBehindRaftTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void deleteRecordsKeepsWhatTheRaftLogStillNeedsSoALaggingFollowerCatchesUp() throws Exception {
    final LogConfig smallSegments = LogConfig.builder().segmentBytes(4096).build();
    try (RaftCluster cluster = RaftCluster.keepingTheRaftLog(dir, smallSegments)) {
      final PartitionId id = RaftCluster.newPartition("trimmed", 0);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(20);
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int lagging = leader == 3 ? 2 : 3;
      cluster.stop(lagging);
      workload.produce(200);

      final ReplicatedPartition leading = cluster.leader(id, WAIT);
      final long hw = leading.highWatermark();
      assertThat(leading.deleteRecordsBefore(hw).get(30, TimeUnit.SECONDS)).isEqualTo(hw);
      assertThat(leading.logStartOffset()).as("the start moves at once").isEqualTo(hw);
      assertThatThrownBy(() -> leading.log().read(0, 1024))
          .isInstanceOf(OffsetOutOfRangeException.class);
      for (int node : cluster.runningIds()) {
        cluster.replica(node, id).applyRetention(); // the Raft log still refers to all of it
      }

      cluster.start(lagging);
      workload.produce(20);
      final long end = cluster.leader(id, WAIT).highWatermark();
      cluster.awaitHighWatermark(id, end, WAIT);
      final byte[] reference = RaftCluster.logBytes(cluster.leader(id, WAIT), end);
      assertThat(reference).isNotEmpty();
      for (int node : cluster.runningIds()) {
        assertThat(cluster.replica(node, id).logStartOffset()).isEqualTo(hw);
        assertThat(RaftCluster.logBytes(cluster.replica(node, id), end))
            .as("node %d", node)
            .isEqualTo(reference);
      }

      // Snapshots let Ratis purge the entries below the new start: retention then deletes them.
      workload.produce(400);
      final long deadline = System.nanoTime() + WAIT.toNanos();
      for (int node : cluster.runningIds()) {
        final ReplicatedPartition replica = cluster.replica(node, id);
        while (replica.log().segmentBaseOffsets().get(0) == 0) {
          assertThat(System.nanoTime()).as("node %d deleted nothing", node).isLessThan(deadline);
          replica.applyRetention();
          Thread.sleep(100);
        }
        assertThat(replica.log().segmentBaseOffsets().get(0)).isLessThanOrEqualTo(hw);
        assertThat(replica.logStartOffset()).isEqualTo(hw);
      }
    }
  }
}
