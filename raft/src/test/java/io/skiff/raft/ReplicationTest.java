package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.TestBatches;
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
}
