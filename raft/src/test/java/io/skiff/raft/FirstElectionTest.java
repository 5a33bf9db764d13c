package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.leadership.FirstElection;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new partition group gets its first leader from its first replica, at once and in one election
 * (term 1), although every replica's election timeout is minutes long: only the first replica
 * campaigns, and only once a majority of the voters host the group.
 */
class FirstElectionTest {
  /** Election timeouts far longer than the test waits: no group may elect by timeout here. */
  private static final int TIMEOUT_MIN_MS = 180_000;

  private static final int TIMEOUT_MAX_MS = 240_000;

  private static final int PARTITIONS = 120;

  /** Generous for a loaded 2-core machine; measured: about a second after the last creation. */
  private static final Duration ALL_LED_WITHIN = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void everyNewGroupIsLedByItsFirstReplicaAfterOneElection() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, FirstElectionTest::longTimeouts)) {
      final List<PartitionId> partitions = new ArrayList<>();
      final List<Integer> firsts = new ArrayList<>();
      for (int i = 0; i < PARTITIONS; i++) {
        final PartitionId id = RaftCluster.newPartition("first-election", i);
        final int first = i % 3 + 1;
        cluster.createPartition(id, first, first % 3 + 1, (first + 1) % 3 + 1);
        partitions.add(id);
        firsts.add(first);
      }
      final long deadline = System.nanoTime() + ALL_LED_WITHIN.toNanos();
      for (int i = 0; i < PARTITIONS; i++) {
        final PartitionId id = partitions.get(i);
        final ReplicatedPartition leader =
            cluster.leader(id, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        assertThat(leader.leaderNodeId()).as("leader of %s", id).contains(firsts.get(i));
        assertThat(term(cluster, firsts.get(i), id)).as("term of %s", id).isEqualTo(1);
      }
    }
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void campaignsOnlyOnceAMajorityHostsTheGroup() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, FirstElectionTest::longTimeouts)) {
      final PartitionId id = RaftCluster.newPartition("majority", 0);
      final var peers = cluster.peers(1, 2, 3);
      cluster.node(1).createPartition(id, peers);
      Thread.sleep(10 * FirstElection.POLL_MS);
      assertThat(cluster.replica(1, id).isLeaderReady()).isFalse();
      assertThat(term(cluster, 1, id)).as("no futile election alone").isZero();

      cluster.node(2).createPartition(id, peers);
      assertThat(cluster.leader(id, Duration.ofSeconds(30)).leaderNodeId()).contains(1);
      assertThat(term(cluster, 1, id)).isEqualTo(1);

      cluster.node(3).createPartition(id, peers); // a late voter just follows
      assertThat(cluster.leader(id, Duration.ofSeconds(30)).leaderNodeId()).contains(1);
    }
  }

  private static RaftNodeConfig longTimeouts(RaftNodeConfig c) {
    return c.withElectionTimeout(TIMEOUT_MIN_MS, TIMEOUT_MAX_MS);
  }

  private static long term(RaftCluster cluster, int nodeId, PartitionId id) throws IOException {
    final RaftServer.Division division = cluster.node(nodeId).server().getDivision(id.groupId());
    return division.getInfo().getCurrentTerm();
  }
}
