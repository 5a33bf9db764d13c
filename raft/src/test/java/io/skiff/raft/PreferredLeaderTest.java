package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.raft.membership.PartitionMembership;
import io.skiff.raft.partition.PartitionId;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preferred leader election: leadership returns to the first replica, or fails promptly. */
class PreferredLeaderTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void movesLeadershipToTheFirstReplicaOnlyWhenItDoesNotLead() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("preferred", 0);
      cluster.createPartition(id, 1, 2, 3);
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int preferred = leader % 3 + 1;
      final int third = preferred % 3 + 1;
      final var replicas = cluster.peers(preferred, leader, third);

      // Asked from the third node, which need not lead or even be the preferred replica.
      final PartitionMembership membership = cluster.node(third).membership();
      assertThat(membership.electPreferred(id, replicas, Duration.ofSeconds(8))).isTrue();
      assertThat(cluster.leader(id, WAIT).leaderNodeId()).contains(preferred);
      assertThat(membership.electPreferred(id, replicas, Duration.ofSeconds(8))).isFalse();
    }
  }

  @Test
  void failsPromptlyWhenThePreferredReplicaIsDown() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("absent", 0);
      cluster.createPartition(id, 1, 2, 3);
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int preferred = leader % 3 + 1;
      final int third = preferred % 3 + 1;
      final var replicas = cluster.peers(preferred, leader, third);
      cluster.stop(preferred);

      final long start = System.nanoTime();
      assertThatThrownBy(
              () ->
                  cluster
                      .node(leader)
                      .membership()
                      .electPreferred(id, replicas, Duration.ofSeconds(8)))
          .isInstanceOf(IOException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }
  }
}
