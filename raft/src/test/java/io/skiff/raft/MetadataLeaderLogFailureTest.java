package io.skiff.raft;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.testing.Await;
import io.skiff.testing.SmallTmpfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.protocol.RaftGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node 2 leads the metadata group when its own Raft log fails: its data is on a small tmpfs filled
 * up completely (16 KiB Raft segments, so its log soon needs a new segment file). A leader whose
 * log failed commits nothing (Ratis bounds its commit index by what it flushed itself); Ratis steps
 * it down once its followers' heartbeat replies lapse (LOST_MAJORITY_HEARTBEATS), the others elect,
 * and changes through node 1 keep committing. Once the space is back, node 2's metadata replica
 * restarts from disk and follows the metadata again, without a restart of the node.
 */
class MetadataLeaderLogFailureTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** Changes of ~250 bytes each: 150 fill more than two 16 KiB Raft segments. */
  private static final int CHANGES = 150;

  private static final String PADDING = "test.padding";

  private static String padding(int change) {
    return change + "-" + "x".repeat(240);
  }

  @TempDir Path dir;

  @RegisterExtension
  final SmallTmpfs tmpfs =
      SmallTmpfs.perTestAt(() -> dir.resolve("node-2"), "64m", "metadata leader disk-full test");

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void aMetadataLeaderWhoseRaftLogFailsStepsDownAndFollowsAgainOnceSpaceIsFreed() throws Exception {
    // The brokers' election timeouts: the tests' 300-600 ms make leadership flap on a loaded host.
    try (RaftCluster cluster =
        new RaftCluster(
            dir, 3, c -> c.withRaftSegmentBytes(16 * 1024).withElectionTimeout(1_000, 2_000))) {
      for (int id = 1; id <= 3; id++) {
        cluster.node(id).startMetadata(cluster.peers(1, 2, 3), List.of());
      }
      final var changes = cluster.node(1).metadata();
      changes.setClusterConfigs(Map.of(PADDING, "")).get(WAIT.toSeconds(), SECONDS);
      makeNode2TheLeader(cluster);

      SmallTmpfs.fill(tmpfs.path().resolve("ballast"), 4 << 10, written -> written);
      for (int i = 0; i < CHANGES; i++) {
        changes.setClusterConfigs(Map.of(PADDING, padding(i))).get(WAIT.toSeconds(), SECONDS);
      }
      final long last = changes.image().appliedIndex();
      assertThat(cluster.node(2).metadata().image().appliedIndex())
          .as("node 2's metadata log failed on its full disk: its image stopped")
          .isLessThan(last);
      assertThat(isLeader(cluster, 2)).as("node 2 no longer leads").isFalse();

      Files.delete(tmpfs.path().resolve("ballast"));
      Await.atMost(WAIT.multipliedBy(2))
          .pollingEvery(Duration.ofMillis(200))
          .until(
              "node 2's metadata image reaches index " + last,
              () -> cluster.node(2).metadata().image().appliedIndex() >= last);
      assertThat(cluster.node(2).metadata().image().clusterConfigs())
          .containsEntry(PADDING, padding(CHANGES - 1));
      assertThat(cluster.node(2).raftLogRestarts())
          .as("node 2's metadata replica restarted from disk")
          .isPositive();
    }
  }

  private static void makeNode2TheLeader(RaftCluster cluster) throws Exception {
    try (RaftClient client =
        RaftClient.newBuilder()
            .setRaftGroup(RaftGroup.valueOf(RaftNode.METADATA_GROUP, cluster.peers(1, 2, 3)))
            .setProperties(RatisProperties.client(RaftCluster.testRpcType()))
            .setParameters(new Parameters())
            .build()) {
      Await.atMost(WAIT)
          .pollingEvery(Duration.ofMillis(500))
          .until(
              "node 2 leads the metadata group",
              () -> {
                if (!isLeader(cluster, 2)) {
                  try {
                    client.admin().transferLeadership(RaftNode.peerId(2), 10_000);
                  } catch (java.io.IOException e) {
                    return false; // an election in progress: try again
                  }
                }
                return isLeader(cluster, 2);
              });
    }
  }

  private static boolean isLeader(RaftCluster cluster, int id) {
    try {
      return cluster.node(id).server().getDivision(RaftNode.METADATA_GROUP).getInfo().isLeader();
    } catch (java.io.IOException e) {
      return false; // not hosted now: restarting
    }
  }
}
