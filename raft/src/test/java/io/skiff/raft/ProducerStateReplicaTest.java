package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.partition.PartitionId;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The producer state table (sequence windows, last append times, expiry clock) of a replica that
 * caught up through the replica fetcher, and of one restarted from its snapshot plus log replay, is
 * the leader's, byte for byte, on three real Ratis servers.
 */
class ProducerStateReplicaTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final long EARLY_PID = 5_000;
  private static final long LATE_PID = 5_001;

  @TempDir Path dir;

  @Test
  void caughtUpAndRestartedReplicasHoldTheLeadersProducerState() throws Exception {
    try (RaftCluster cluster = RaftCluster.catchingUpByFetch(dir, 20)) {
      final PartitionId id = RaftCluster.newPartition("state", 0);
      cluster.createPartition(id, 1, 2, 3);
      cluster.appendThroughLeader(WAIT, id, batch(EARLY_PID, 0, 2));
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int wiped = leader == 3 ? 2 : 3;
      final int restarted = 6 - leader - wiped;
      cluster.stop(wiped);
      RaftCluster.deleteRecursively(dir.resolve("node-" + wiped));
      // The early producer's last appends end up behind the snapshot the wiped node fetches to.
      for (int seq = 2; seq < 20; seq += 2) {
        cluster.appendThroughLeader(WAIT, id, batch(EARLY_PID, seq, 2));
      }
      for (int seq = 0; seq < 300; seq += 2) {
        cluster.appendThroughLeader(
            WAIT, id, batch(LATE_PID, seq, 2)); // many snapshots: the wiped node must fetch
      }
      cluster.start(wiped).createPartition(id, cluster.peers(1, 2, 3));
      cluster.awaitHighWatermark(id, 320, WAIT);
      assertThat(cluster.node(wiped).replicaFetcher().fetchedBytes()).isPositive();
      assertThat(producerState(cluster, wiped, id)).isEqualTo(producerState(cluster, leader, id));

      cluster.stop(restarted);
      cluster.start(restarted);
      cluster.awaitHighWatermark(id, 320, WAIT);
      assertThat(producerState(cluster, restarted, id))
          .isEqualTo(producerState(cluster, leader, id));
    }
  }

  /** A replica's applied producer state in its snapshot format (sorted by producer id). */
  private static byte[] producerState(RaftCluster cluster, int node, PartitionId id) {
    final ByteBuffer state = cluster.replica(node, id).machine().producerState();
    final byte[] bytes = new byte[state.remaining()];
    state.get(bytes);
    return bytes;
  }

  /**
   * An idempotent batch whose record timestamps are far from the leader's clock, as a producer's
   * create times may be: the leader's append time, not the batch's, is what the state records.
   */
  private static ByteBuffer batch(long producerId, int firstSeq, int count) {
    final SimpleRecord[] records = new SimpleRecord[count];
    for (int i = 0; i < count; i++) {
      records[i] = new SimpleRecord(1_000L + firstSeq + i, null, ("r" + (firstSeq + i)).getBytes());
    }
    return MemoryRecords.withIdempotentRecords(
            Compression.NONE, producerId, (short) 0, firstSeq, records)
        .buffer();
  }
}
