package io.skiff.raft;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.log.TestBatches;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.AppendResult;
import io.skiff.raft.partition.NotLeaderException;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import io.skiff.raft.producer.ProducerStateException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retries of an idempotent producer on three real Ratis servers: each batch is in the log once, and
 * every retry is answered with the original offsets, also after a leader change, a restart of every
 * node (producer state from snapshots plus replay) and a catch-up through the replica fetcher.
 */
class IdempotentProducerTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final long PID = 4_000;

  @TempDir Path dir;

  @Test
  void retriesAreAnsweredWithTheOriginalOffsetsAcrossLeaderChangesAndRestarts() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c.withSnapshotEntries(4))) {
      final PartitionId id = RaftCluster.newPartition("ledger", 0);
      cluster.createPartition(id, 1, 2, 3);
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(0, 3)))
          .isEqualTo(new AppendResult(0, 3));
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(0, 3)))
          .isEqualTo(new AppendResult(0, 3));
      for (int seq = 3; seq < 30; seq += 3) {
        assertThat(cluster.appendThroughLeader(WAIT, id, batch(seq, 3)).baseOffset())
            .isEqualTo(seq);
      }

      final int oldLeader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      cluster.stop(oldLeader);
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(27, 3)))
          .isEqualTo(new AppendResult(27, 30));
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(18, 3)))
          .isEqualTo(new AppendResult(18, 21));
      assertThatThrownBy(() -> cluster.appendThroughLeader(WAIT, id, batch(40, 1)))
          .hasCauseInstanceOf(ProducerStateException.class);
      assertThatThrownBy(
              () -> cluster.appendThroughLeader(WAIT, id, batch(3, 3))) // older than the last five
          .hasCauseInstanceOf(ProducerStateException.class);
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(30, 3)))
          .isEqualTo(new AppendResult(30, 33));

      // Restart the two live nodes: their state comes from snapshots plus replayed entries.
      final List<Integer> live = cluster.runningIds();
      for (int node : live) {
        cluster.stop(node);
      }
      for (int node : live) {
        cluster.start(node);
      }
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(30, 3)))
          .isEqualTo(new AppendResult(30, 33));
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(33, 3)))
          .isEqualTo(new AppendResult(33, 36));
      cluster.awaitHighWatermark(id, 36, WAIT);
      assertThat(cluster.leader(id, WAIT).highWatermark()).isEqualTo(36);
    }
  }

  @Test
  void aRetryOfAnAppendStillInFlightIsNotAppendedAgain() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("inflight", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      for (int round = 0; round < 20; round++) {
        final ByteBuffer batch = batch(round * 2, 2);
        final CompletableFuture<AppendResult> first = leader.append(batch.duplicate(), Acks.ALL);
        final CompletableFuture<AppendResult> retry = leader.append(batch.duplicate(), Acks.ALL);
        final AppendResult original = first.get(30, TimeUnit.SECONDS);
        assertThat(retry.get(30, TimeUnit.SECONDS)).isEqualTo(original);
        assertThat(original.baseOffset()).isEqualTo(round * 2L);
      }
      cluster.awaitHighWatermark(id, 40, WAIT);
      assertThat(leader.highWatermark()).isEqualTo(40);
      assertThat(leader.duplicateAppends()).isEqualTo(20);
      assertThat(leader.producerCount()).isEqualTo(1);
    }
  }

  @Test
  void aReplicaThatCaughtUpByFetchingDeduplicatesOnceItLeads() throws Exception {
    try (RaftCluster cluster = RaftCluster.catchingUpByFetch(dir, 20)) {
      final PartitionId id = RaftCluster.newPartition("fetched", 0);
      cluster.createPartition(id, 1, 2, 3);
      cluster.appendThroughLeader(WAIT, id, batch(0, 2));
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int wiped = leader == 3 ? 2 : 3;
      cluster.stop(wiped);
      RaftCluster.deleteRecursively(dir.resolve("node-" + wiped));
      for (int seq = 2; seq < 400; seq += 2) {
        cluster.appendThroughLeader(
            WAIT, id, batch(seq, 2)); // many snapshots: the wiped node must fetch
      }
      cluster.start(wiped).createPartition(id, cluster.peers(1, 2, 3));
      cluster.awaitHighWatermark(id, 400, WAIT);
      assertThat(cluster.node(wiped).replicaFetcher().fetchedBytes()).isPositive();

      cluster.node(leader).membership().transferLeadership(id, wiped, WAIT);
      final ReplicatedPartition newLeader = cluster.leader(id, WAIT);
      assertThat(newLeader.leaderNodeId()).contains(wiped);
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(396, 2)))
          .isEqualTo(new AppendResult(396, 398));
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(400, 2)))
          .isEqualTo(new AppendResult(400, 402));
    }
  }

  /**
   * A leader answers a producer's retry with the original's offsets once they are committed, but it
   * adds that wait only after the Raft reply: if leadership moved in between, the offsets may since
   * hold another leader's data. The wait is bound to the term the retry was matched in.
   */
  @Test
  void aRetryMatchedInAnEarlierTermIsNotAcknowledgedAgainstAnotherLeadersData() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("moved", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition first = cluster.leader(id, WAIT);
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(0, 3)))
          .isEqualTo(new AppendResult(0, 3));
      final int firstId = first.leaderNodeId().orElseThrow();
      final long firstTerm = first.leaderEpoch();

      final int secondId = firstId % 3 + 1;
      cluster.node(firstId).membership().transferLeadership(id, secondId, WAIT);
      final ReplicatedPartition second = cluster.leader(id, WAIT);
      assertThat(second.leaderNodeId()).contains(secondId);
      // The new leader's data at [3, 8): not what the first leader matched a retry to.
      second.append(TestBatches.batch(0, 5, 10, 0), Acks.ALL).get(30, TimeUnit.SECONDS);
      cluster.awaitHighWatermark(id, 8, WAIT);

      // The first leader's late wait for a retry it matched to [3, 8) in its own term.
      assertThatThrownBy(() -> first.machine().whenCommitted(8, firstTerm).get(30, SECONDS))
          .hasCauseInstanceOf(NotLeaderException.class);
      // The second leader's own wait, in its term, completes; one from the old term does not.
      assertThat(second.machine().whenCommitted(8, second.leaderEpoch()))
          .succeedsWithin(Duration.ofSeconds(30));
      assertThatThrownBy(() -> second.machine().whenCommitted(8, firstTerm).get(30, SECONDS))
          .hasCauseInstanceOf(NotLeaderException.class);
    }
  }

  /**
   * Kafka 4.x accepts any first sequence from a producer it holds no state for, since its earlier
   * records may have been deleted; Skiff does once records were removed from the log's head, and
   * until then asks for sequence 0 (a pipelined batch must not overtake an earlier failed one).
   */
  @Test
  void aProducerWithNoStateMayStartMidSequenceOnlyOnceRecordsWereDeleted() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("resumed", 0);
      cluster.createPartition(id, 1, 2, 3);
      assertThat(cluster.appendThroughLeader(WAIT, id, batch(0, 3)))
          .isEqualTo(new AppendResult(0, 3));
      final ByteBuffer resumed =
          MemoryRecords.withIdempotentRecords(
                  Compression.NONE,
                  PID + 1,
                  (short) 0,
                  7,
                  new SimpleRecord(1_000L, null, "late".getBytes()))
              .buffer();
      assertThatThrownBy(() -> cluster.appendThroughLeader(WAIT, id, resumed))
          .hasCauseInstanceOf(ProducerStateException.class)
          .hasMessageContaining("expected sequence 0");

      assertThat(cluster.leader(id, WAIT).deleteRecordsBefore(3).get(30, SECONDS)).isEqualTo(3);
      assertThat(cluster.appendThroughLeader(WAIT, id, resumed)).isEqualTo(new AppendResult(3, 4));
      assertThat(cluster.appendThroughLeader(WAIT, id, resumed))
          .isEqualTo(new AppendResult(3, 4)); // a retry
      cluster.awaitHighWatermark(id, 4, WAIT);
    }
  }

  /** An idempotent batch of {@code count} records from sequence {@code firstSeq}. */
  private static ByteBuffer batch(int firstSeq, int count) {
    final SimpleRecord[] records = new SimpleRecord[count];
    for (int i = 0; i < count; i++) {
      records[i] = new SimpleRecord(1_000L + firstSeq + i, null, ("r" + (firstSeq + i)).getBytes());
    }
    return MemoryRecords.withIdempotentRecords(Compression.NONE, PID, (short) 0, firstSeq, records)
        .buffer();
  }
}
