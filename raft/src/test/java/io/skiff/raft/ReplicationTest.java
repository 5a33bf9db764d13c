package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.log.SegmentedLog;
import io.skiff.log.TestBatches;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.AppendResult;
import io.skiff.raft.partition.NotLeaderException;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicationTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void replicatesBatchesByteIdenticallyToEveryReplica() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("orders", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);

      final List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
      for (int i = 0; i < 2_000; i++) {
        acks.add(leader.append(TestBatches.batch(0, 4, 100, i), Acks.ALL));
      }
      long expected = 0;
      for (CompletableFuture<AppendResult> ack : acks) {
        final AppendResult result = ack.get(30, TimeUnit.SECONDS);
        assertThat(result.baseOffset()).isEqualTo(expected);
        expected = result.nextOffset();
      }
      assertThat(expected).isEqualTo(8_000);
      cluster.awaitHighWatermark(id, 8_000, WAIT);

      final byte[] reference = RaftCluster.logBytes(leader, 8_000);
      for (int node : cluster.runningIds()) {
        assertThat(RaftCluster.logBytes(cluster.replica(node, id), 8_000)).isEqualTo(reference);
      }
    }
  }

  @Test
  void answersEachAcksLevelAndRedirectsToTheLeader() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("acks", 1);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      final int leaderId = leader.leaderNodeId().orElseThrow();
      final java.util.concurrent.ConcurrentLinkedQueue<Long> watermarks =
          new java.util.concurrent.ConcurrentLinkedQueue<>();
      cluster.replica(leaderId % 3 + 1, id).addListener((p, hw) -> watermarks.add(hw));

      final AppendResult one =
          leader.append(TestBatches.batch(0, 5, 10, 0), Acks.LEADER).get(30, TimeUnit.SECONDS);
      assertThat(one).isEqualTo(new AppendResult(0, 5));
      final AppendResult none =
          leader.append(TestBatches.batch(0, 2, 10, 0), Acks.NONE).get(30, TimeUnit.SECONDS);
      assertThat(none).isEqualTo(new AppendResult(5, 7));
      final AppendResult all =
          leader.append(TestBatches.batch(0, 3, 10, 0), Acks.ALL).get(30, TimeUnit.SECONDS);
      assertThat(all).isEqualTo(new AppendResult(7, 10));
      cluster.awaitHighWatermark(id, 10, WAIT);
      assertThat(new java.util.ArrayList<>(watermarks)).contains(10L).isSorted();

      final ReplicatedPartition follower = cluster.replica(leaderId % 3 + 1, id);
      assertThat(follower.isLeader()).isFalse();
      assertThatThrownBy(
              () ->
                  follower
                      .append(TestBatches.batch(0, 1, 10, 0), Acks.ALL)
                      .get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(NotLeaderException.class)
          .cause()
          .satisfies(e -> assertThat(((NotLeaderException) e).leaderNodeId()).contains(leaderId));
      assertThatThrownBy(() -> leader.append(java.nio.ByteBuffer.wrap(new byte[70]), Acks.ALL))
          .isInstanceOf(io.skiff.log.InvalidBatchException.class);
      assertThat(leader.read(0, 1 << 20).nextOffset()).isEqualTo(10);
      assertThat(leader.leaderEpoch()).isPositive();
    }
  }

  @Test
  void listOffsetsByTimestampNeverAnswersAnUncommittedOffset() throws Exception {
    // Long election timeouts: the leader keeps leading a while after its followers stop.
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c.withElectionTimeout(5_000, 10_000))) {
      final PartitionId id = RaftCluster.newPartition("timestamps", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, Duration.ofSeconds(60));
      leader.append(TestBatches.batch(0, 5, 10, 1_000), Acks.ALL).get(30, TimeUnit.SECONDS);
      final int leaderId = leader.leaderNodeId().orElseThrow();
      for (int node : cluster.runningIds()) {
        if (node != leaderId) {
          cluster.stop(node);
        }
      }
      // Written on the leader only: offsets [5, 10) with timestamps from 5000, uncommitted.
      final AppendResult local =
          leader.append(TestBatches.batch(0, 5, 10, 5_000), Acks.LEADER).get(30, TimeUnit.SECONDS);
      assertThat(local.baseOffset()).isEqualTo(5);
      assertThat(leader.highWatermark()).isEqualTo(5);

      assertThat(leader.offsetForTimestamp(5_000)).isNull();
      assertThat(leader.offsetForTimestamp(SegmentedLog.MAX_TIMESTAMP)).isNull();
      assertThat(leader.offsetForTimestamp(1_002).offset()).isEqualTo(2);
      assertThat(leader.offsetForTimestamp(SegmentedLog.LATEST_TIMESTAMP).offset()).isEqualTo(5);
      assertThat(leader.offsetForTimestamp(SegmentedLog.EARLIEST_TIMESTAMP).offset()).isZero();
    }
  }
}
