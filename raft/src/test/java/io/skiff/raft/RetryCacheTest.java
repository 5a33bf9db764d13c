package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.TestBatches;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.AppendResult;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partition groups keep no Ratis retry cache (Ratis patch 0020): every append is answered, and no
 * replica holds a reply afterwards. With the cache, each replica would hold one per append for a
 * minute.
 */
class RetryCacheTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int APPENDS = 200;

  @TempDir Path dir;

  @Test
  void partitionReplicasKeepNoRepliesOfAnsweredAppends() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("payments", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);

      final List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
      for (int i = 0; i < APPENDS; i++) {
        acks.add(leader.append(TestBatches.batch(0, 2, 50, i), Acks.ALL));
      }
      long expected = 0;
      for (CompletableFuture<AppendResult> ack : acks) {
        final AppendResult result = ack.get(30, TimeUnit.SECONDS);
        assertThat(result.baseOffset()).isEqualTo(expected);
        expected = result.nextOffset();
      }
      cluster.awaitHighWatermark(id, expected, WAIT);

      // Ratis refreshes the cache's statistics at most every 100 ms.
      Thread.sleep(250);
      for (int node : cluster.runningIds()) {
        final RaftServer.Division division = cluster.node(node).server().getDivision(id.groupId());
        assertThat(division.getRetryCache().getStatistics().size())
            .as("retry cache entries on node %d", node)
            .isZero();
      }
    }
  }
}
