package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.log.OffsetOutOfRangeException;
import io.skiff.log.TestBatches;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.NotLeaderException;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DeleteRecords travels through Raft: every replica's log start moves, and stays after restart. */
class DeleteRecordsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void movesTheLogStartOfEveryReplica() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("trim", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      for (int i = 0; i < 200; i++) {
        leader.append(TestBatches.batch(0, 5, 1000, i), Acks.ALL).get(30, TimeUnit.SECONDS);
      }
      cluster.awaitHighWatermark(id, 1000, WAIT);
      final int segmentsBefore = leader.log().segmentCount();

      assertThat(leader.deleteRecordsBefore(602).get(30, TimeUnit.SECONDS)).isEqualTo(602);
      awaitLogStart(cluster, id, 602);
      assertThat(leader.log().segmentCount())
          .as("kept while entries in the Raft log refer to them (DeleteRecordsBehindRaftTest)")
          .isEqualTo(segmentsBefore);
      assertThat(leader.read(602, 1 << 20).firstOffset()).isEqualTo(600);
      assertThat(leader.deleteRecordsBefore(100).get(30, TimeUnit.SECONDS)).isEqualTo(602);

      final int leaderId = leader.leaderNodeId().orElseThrow();
      final ReplicatedPartition follower = cluster.replica(leaderId % 3 + 1, id);
      assertThatThrownBy(() -> follower.deleteRecordsBefore(700).get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(NotLeaderException.class);
      assertThatThrownBy(() -> leader.deleteRecordsBefore(1001).get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(OffsetOutOfRangeException.class);

      assertThat(
              leader
                  .deleteRecordsBefore(ReplicatedPartition.HIGH_WATERMARK)
                  .get(30, TimeUnit.SECONDS))
          .isEqualTo(1000);
      awaitLogStart(cluster, id, 1000);
    }
  }

  @Test
  void keepsTheNewStartAcrossAFollowerRestart() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("restart", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      for (int i = 0; i < 20; i++) {
        leader.append(TestBatches.batch(0, 5, 100, i), Acks.ALL).get(30, TimeUnit.SECONDS);
      }
      cluster.awaitHighWatermark(id, 100, WAIT);
      assertThat(leader.deleteRecordsBefore(50).get(30, TimeUnit.SECONDS)).isEqualTo(50);
      awaitLogStart(cluster, id, 50);

      final int follower = leader.leaderNodeId().orElseThrow() % 3 + 1;
      cluster.stop(follower);
      cluster.start(follower);
      final ReplicatedPartition current = cluster.leader(id, WAIT);
      current.append(TestBatches.batch(0, 5, 100, 99), Acks.ALL).get(30, TimeUnit.SECONDS);
      cluster.awaitHighWatermark(id, 105, WAIT);
      awaitLogStart(cluster, id, 50);
      assertThat(RaftCluster.logBytes(cluster.replica(follower, id), 105))
          .isEqualTo(RaftCluster.logBytes(current, 105));
    }
  }

  private static void awaitLogStart(RaftCluster cluster, PartitionId id, long offset)
      throws InterruptedException {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    for (int node : cluster.runningIds()) {
      final ReplicatedPartition replica = cluster.replica(node, id);
      while (replica.logStartOffset() != offset) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(
              "node " + node + " log starts at " + replica.logStartOffset() + ", not " + offset);
        }
        Thread.sleep(20);
      }
    }
  }
}
