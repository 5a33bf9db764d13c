package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.TestBatches;
import io.skiff.raft.leadership.ElectionCounters;
import io.skiff.raft.metrics.CountingMetricRegistry;
import io.skiff.raft.metrics.CountingTimer;
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
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ratis' own per-entry metrics on real servers, kept by Skiff's counting registries. */
class RatisMetricsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int BATCHES = 50;

  @TempDir Path dir;

  /** Sum of one timer's count over a node's registries of one component (all its groups). */
  private static long timed(RaftCluster cluster, int node, String component, String timer) {
    long count = 0;
    for (RatisMetricRegistry registry : cluster.ratisRegistries(node, component)) {
      assertThat(registry).isInstanceOf(CountingMetricRegistry.class);
      final CountingTimer t = ((CountingMetricRegistry) registry).timers().get(timer);
      count += t == null ? 0 : t.count();
    }
    return count;
  }

  @Test
  void everyReplicaTimesItsEntriesWithCountingTimersAndElectionsAreStillCounted() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("metered", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      final int leaderId = leader.leaderNodeId().orElseThrow();

      final List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
      for (int i = 0; i < BATCHES; i++) {
        acks.add(leader.append(TestBatches.batch(0, 2, 100, i), Acks.ALL));
      }
      for (CompletableFuture<AppendResult> ack : acks) {
        ack.get(60, TimeUnit.SECONDS);
      }
      cluster.awaitHighWatermark(id, 2L * BATCHES, WAIT);

      assertThat(timed(cluster, leaderId, "server", "clientWriteRequest"))
          .as("client writes timed on the leader")
          .isGreaterThanOrEqualTo(BATCHES);
      for (int node : cluster.runningIds()) {
        assertThat(timed(cluster, node, "log_worker", "appendEntryLatency"))
            .as("entries appended to node %d's Raft log", node)
            .isGreaterThanOrEqualTo(BATCHES);
        if (node != leaderId) {
          assertThat(timed(cluster, node, "server", "follower_append_entry_latency"))
              .as("AppendEntries handled by follower %d", node)
              .isPositive();
        }
      }
      assertThat(new ElectionCounters(cluster.node(leaderId).self().getId()).elections())
          .as("elections the leader ran")
          .isPositive();
    }
  }
}
