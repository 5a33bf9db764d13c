package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-sync count behind {@code min.insync.replicas}, on three real nodes with 15–30 s election
 * timeouts, so that an idle group's followers hear from the leader only every 7.5 s: a caught-up
 * follower on a reachable broker is in sync however long ago it last replied, a stopped one drops
 * out once its broker is unreachable, and a restarted one is back once it caught up.
 */
class InSyncReplicasTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** A lag time shorter than any gap between replies: only being caught up keeps a follower. */
  private static final long LAG_MS = 1;

  @TempDir Path dir;

  @Test
  void caughtUpFollowersOfReachableBrokersStayInSyncWhileIdle() throws Exception {
    try (RaftCluster cluster =
        new RaftCluster(dir, 3, c -> c.withElectionTimeout(15_000, 30_000))) {
      for (int node = 1; node <= 3; node++) { // the metadata lists the brokers to probe
        cluster.node(node).startMetadata(cluster.peers(1, 2, 3), List.of());
      }
      final PartitionId id = RaftCluster.newPartition("idle", 0);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(20);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      awaitInSync(() -> leader.inSyncReplicas(LAG_MS), 3);

      final int follower = leader.leaderNodeId().orElseThrow() % 3 + 1;
      cluster.stop(follower);
      awaitInSync(() -> leader.inSyncReplicas(LAG_MS), 2);
      workload.produce(20);
      assertThat(leader.inSyncReplicas(LAG_MS))
          .as("the survivor that holds every entry, and the leader")
          .isEqualTo(2);

      cluster.start(follower);
      awaitInSync(() -> leader.inSyncReplicas(LAG_MS), 3);
      workload.assertReplicasIdentical();
    }
  }

  private static void awaitInSync(IntSupplier inSync, int expected) throws InterruptedException {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    int last = inSync.getAsInt();
    while (last != expected && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(150); // past the count's 100 ms reuse
      last = inSync.getAsInt();
    }
    assertThat(last).as("replicas in sync").isEqualTo(expected);
  }
}
