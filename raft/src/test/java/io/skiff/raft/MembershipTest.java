package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leader transfer and replica moves while a producer keeps writing. */
class MembershipTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void transfersLeadershipUnderWrites() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("metrics", 0);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(100);
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int target = leader % 3 + 1;

      final CompletableFuture<Void> writes = writeInBackground(workload, 300);
      cluster.node(leader).membership().transferLeadership(id, target, Duration.ofSeconds(10));
      writes.get(120, TimeUnit.SECONDS);

      assertThat(cluster.leader(id, WAIT).leaderNodeId()).contains(target);
      workload.assertReplicasIdentical();
    }
  }

  @Test
  void movesAReplicaToAFourthNodeUnderWrites() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c.withSnapshotEntries(200))) {
      final PartitionId id = RaftCluster.newPartition("ledger", 7);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(500);

      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int leaving = leader == 1 ? 2 : 1;
      final int[] staying =
          java.util.stream.IntStream.of(1, 2, 3).filter(n -> n != leaving).toArray();
      cluster.addNode(4).joinPartition(id, cluster.peers(1, 2, 3));

      final CompletableFuture<Void> writes = writeInBackground(workload, 300);
      cluster
          .node(leader)
          .membership()
          .reassign(id, cluster.peers(staying[0], staying[1], 4), Duration.ofSeconds(60));
      writes.get(120, TimeUnit.SECONDS);
      cluster.node(leaving).removePartition(id, true);
      cluster.stop(leaving);

      workload.produce(100);
      workload.assertReplicasIdentical();
      assertThat(cluster.replica(4, id).highWatermark())
          .isGreaterThanOrEqualTo(workload.highestAcknowledgedEnd());
    }
  }

  private static CompletableFuture<Void> writeInBackground(Workload workload, int batches) {
    final AtomicBoolean failed = new AtomicBoolean();
    return CompletableFuture.runAsync(
        () -> {
          try {
            workload.produce(batches);
          } catch (InterruptedException e) {
            failed.set(true);
            Thread.currentThread().interrupt();
          }
        });
  }
}
