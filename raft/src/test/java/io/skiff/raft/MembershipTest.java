package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.raft.membership.PartitionMembership;
import io.skiff.raft.partition.PartitionId;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.ratis.protocol.RaftPeer;
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

  /**
   * The leader's own replica moves to a new node named first in the target (as a drain writes it:
   * the new replica in the leaving one's place). The new node is still a listener when the leader
   * hands over, so the hand-over must go to a target replica that already votes.
   */
  @Test
  void movesTheLeadersReplicaToANewNodeNamedFirstInTheTarget() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("drained", 1);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(100);
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int[] staying =
          java.util.stream.IntStream.of(1, 2, 3).filter(n -> n != leader).toArray();
      cluster.addNode(4).joinPartition(id, cluster.peers(1, 2, 3));

      final CompletableFuture<Void> writes = writeInBackground(workload, 100);
      reassignAsTheDriverDoes(
          cluster.node(leader).membership(), id, cluster.peers(4, staying[0], staying[1]));
      writes.get(120, TimeUnit.SECONDS);
      cluster.node(leader).removePartition(id, true);
      cluster.stop(leader);

      workload.produce(50);
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
   * Asks the current leader to hand over to {@code target} until it leads, for up to {@link #WAIT}:
   * under writes the hand-over can lose its race, every attempt the same way. The leader checks
   * that the target holds its last entry, then tells it to campaign; a write appended in between
   * makes the others refuse the target's vote (their log is longer), and Ratis fails the transfer
   * with DIFFERENT_LEADER once someone else wins, often within half a second.
   */
  private static void transferUntilLeading(RaftCluster cluster, PartitionId id, int target)
      throws Exception {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      if (leader == target) {
        return;
      }
      try {
        cluster.node(leader).membership().transferLeadership(id, target, Duration.ofSeconds(10));
      } catch (IOException e) {
        if (System.nanoTime() - deadline > 0) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  /**
   * Calls {@code reassign} until it completes, as the reassignment driver does: under writes on a
   * loaded machine a hand-over may lose the race to an election (DIFFERENT_LEADER).
   */
  private static void reassignAsTheDriverDoes(
      PartitionMembership membership, PartitionId id, List<RaftPeer> target) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        assertThat(membership.reassign(id, target, Duration.ofSeconds(60), () -> true)).isTrue();
        return;
      } catch (IOException e) {
        if (attempt == 3 || e.getMessage().contains("not in conf")) {
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
