package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
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
      transferUntilLeading(cluster, id, target);
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

  @Test
  void addsANewReplicaOnlyOnceItsNodeHasStartedIt() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("orders", 2);
      cluster.createPartition(id, 1, 2);
      final Workload workload = new Workload(cluster, id);
      workload.produce(50);
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final PartitionMembership membership = cluster.node(leader).membership();

      assertThatThrownBy(() -> membership.reassign(id, cluster.peers(1, 2, 3), WAIT))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("broker-3 has not started its replica yet");
      assertThat(membership.listeners(id)).as("the configuration is unchanged").isEmpty();

      cluster.node(3).joinPartition(id, cluster.peers(1, 2));
      membership.reassign(id, cluster.peers(1, 2, 3), WAIT);
      workload.produce(50);
      workload.assertReplicasIdentical();
    }
  }

  /**
   * Asks the current leader to hand over to {@code target} until it leads: under writes an election
   * timeout elsewhere may win the race (Ratis then fails the transfer with DIFFERENT_LEADER).
   */
  private static void transferUntilLeading(RaftCluster cluster, PartitionId id, int target)
      throws Exception {
    for (int attempt = 1; ; attempt++) {
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      if (leader == target) {
        return;
      }
      try {
        cluster.node(leader).membership().transferLeadership(id, target, Duration.ofSeconds(10));
      } catch (IOException e) {
        if (attempt == 3) {
          throw e;
        }
      }
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
