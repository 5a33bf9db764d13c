package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.log.InvalidBatchException;
import io.skiff.log.LogConfig;
import io.skiff.log.TestBatches;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.AppendResult;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Size limits are a leader's policy for new appends: one that Raft cannot carry is refused before
 * it gets offsets, and what was accepted is held by every replica whatever its own limits.
 */
class SizeLimitsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final LogConfig LARGE_SEGMENTS =
      LogConfig.builder().segmentBytes(16 << 20).build();

  @TempDir Path dir;

  @Test
  void anAppendAboveTheRaftEntryLimitIsRefusedBeforeItGetsOffsets() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c.withLogConfig(LARGE_SEGMENTS))) {
      final PartitionId id = RaftCluster.newPartition("big", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      // The topic allows 8 MiB batches; one Raft entry here carries message.max.bytes (1 MiB).
      leader.log().updateConfig(topicLimit(8 << 20));
      final ByteBuffer twoMiB = TestBatches.batch(0, 2, 1 << 20, 0);

      assertThatThrownBy(() -> leader.append(twoMiB, Acks.ALL).get(30, TimeUnit.SECONDS))
          .isInstanceOf(InvalidBatchException.class)
          .hasMessageContaining("raft.entry.max.bytes")
          .extracting(e -> ((InvalidBatchException) e).reason())
          .isEqualTo(InvalidBatchException.Reason.TOO_LARGE);

      // No offset was spent on the refused append and the group still takes appends.
      final AppendResult next =
          leader.append(TestBatches.batch(0, 3, 10, 0), Acks.ALL).get(30, TimeUnit.SECONDS);
      assertThat(next.baseOffset()).isZero();
      assertThat(next.nextOffset()).isEqualTo(3);
      cluster.awaitHighWatermark(id, 3, WAIT);
    }
  }

  @Test
  void aTopicLimitAboveMessageMaxBytesAppliesWhenRaftEntriesCarryIt() throws Exception {
    try (RaftCluster cluster =
        new RaftCluster(
            dir, 3, c -> c.withLogConfig(LARGE_SEGMENTS).withRaftEntryMaxBytes(9 << 20))) {
      final PartitionId id = RaftCluster.newPartition("big", 1);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      leader.log().updateConfig(topicLimit(8 << 20));

      final AppendResult stored =
          leader.append(TestBatches.batch(0, 2, 1 << 20, 0), Acks.ALL).get(30, TimeUnit.SECONDS);
      assertThat(stored.baseOffset()).isZero();
      cluster.awaitHighWatermark(id, 2, WAIT);
      final byte[] reference = RaftCluster.logBytes(leader, 2);
      assertThat(reference.length).isGreaterThan(2 << 20);
      for (int node : cluster.runningIds()) {
        assertThat(RaftCluster.logBytes(cluster.replica(node, id), 2)).isEqualTo(reference);
      }
    }
  }

  @Test
  void followersWithALowerLimitHoldWhatTheLeaderAccepted() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("lowered", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      final int leaderId = leader.leaderNodeId().orElseThrow();
      // The followers heard of a lowered max.message.bytes before the leader did.
      for (int node : cluster.runningIds()) {
        if (node != leaderId) {
          cluster.replica(node, id).log().updateConfig(topicLimit(200));
        }
      }
      long next = 0;
      for (int i = 0; i < 20; i++) {
        next =
            leader
                .append(TestBatches.batch(0, 5, 100, i), Acks.ALL)
                .get(30, TimeUnit.SECONDS)
                .nextOffset();
      }
      assertThat(next).isEqualTo(100);
      cluster.awaitHighWatermark(id, 100, WAIT);
      final byte[] reference = RaftCluster.logBytes(leader, 100);
      for (int node : cluster.runningIds()) {
        assertThat(RaftCluster.logBytes(cluster.replica(node, id), 100)).isEqualTo(reference);
      }
    }
  }

  /** The cluster's test log settings with a topic's {@code max.message.bytes}. */
  private static LogConfig topicLimit(int maxMessageBytes) {
    return LogConfig.builder().segmentBytes(16 << 20).maxBatchBytes(maxMessageBytes).build();
  }
}
