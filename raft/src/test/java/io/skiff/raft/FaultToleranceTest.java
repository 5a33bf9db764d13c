package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.catchup.ReplicaFetcher;
import io.skiff.raft.partition.PartitionId;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Ratis servers on loopback, real disks: kills, restarts, a lagging and a wiped node.
 */
class FaultToleranceTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void survivesTheLeaderBeingKilledAndRestarted() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("payments", 0);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produceAcrossALeaderRestart(300, 300, WAIT);
      workload.produce(300);
      assertThat(workload.acknowledgedCount()).isEqualTo(900);
      workload.assertReplicasIdentical();
      assertThat(cluster.leader(id, WAIT).leaderEpoch()).isGreaterThan(1);
    }
  }

  @Test
  void aStoppedFollowerCatchesUpAfterRestart() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("clicks", 3);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(100);
      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int follower = leader == 1 ? 2 : 1;

      cluster.stop(follower);
      workload.produce(500);
      cluster.start(follower);
      workload.produce(100);
      workload.assertReplicasIdentical();
    }
  }

  @Test
  void aWipedFollowerCatchesUpThroughTheReplicaFetcherWhileWritesContinue() throws Exception {
    try (RaftCluster cluster = RaftCluster.catchingUpByFetch(dir, 100)) {
      final PartitionId id = RaftCluster.newPartition("audit", 0);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(1_000); // several snapshots: the Raft log start moves past index 1

      final int leader = cluster.leader(id, WAIT).leaderNodeId().orElseThrow();
      final int wiped = leader == 3 ? 2 : 3;
      cluster.stop(wiped);
      RaftCluster.deleteRecursively(dir.resolve("node-" + wiped));
      workload.produce(200);

      cluster.start(wiped).createPartition(id, cluster.peers(1, 2, 3));
      workload.produce(300);
      workload.assertReplicasIdentical();

      final ReplicaFetcher fetcher = cluster.node(wiped).replicaFetcher();
      assertThat(fetcher.fetchedBytes()).isPositive();
      assertThat(fetcher.peakBufferedBytes()).isPositive().isLessThanOrEqualTo(32 * 1024);
      assertThat(fetcher.bufferedBytes()).isZero();
    }
  }
}
