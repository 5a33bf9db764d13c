package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.raft.partition.PartitionId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Creating a replica whose first start fails: the next attempt starts afresh and works. */
class ReplicaCreationTest {
  @TempDir Path dir;

  @Test
  void aReplicaWhoseStartFailedIsCreatedAgainOnceTheCauseIsGone() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("invoices", 0);
      cluster.createPartition(id, 1, 2);
      final Workload workload = new Workload(cluster, id);
      workload.produce(20);

      // A directory where the first segment file belongs: the partition log cannot open.
      final Path obstacle =
          dir.resolve("node-3")
              .resolve("log")
              .resolve(id.logDirName())
              .resolve("00000000000000000000.log");
      Files.createDirectories(obstacle.resolve("in-the-way"));
      final RaftNode node = cluster.node(3);
      assertThatThrownBy(() -> node.joinPartition(id, cluster.peers(1, 2)))
          .isInstanceOf(IOException.class);
      assertThat(node.partition(id)).as("nothing half-created is kept").isEmpty();
      assertThat(dir.resolve("node-3").resolve("raft").resolve(id.groupId().getUuid().toString()))
          .as("the Raft storage the failed attempt formatted")
          .doesNotExist();

      Files.delete(obstacle.resolve("in-the-way"));
      Files.delete(obstacle);
      node.joinPartition(id, cluster.peers(1, 2));
      cluster
          .node(cluster.leader(id, Duration.ofSeconds(30)).leaderNodeId().orElseThrow())
          .membership()
          .reassign(id, cluster.peers(1, 2, 3), Duration.ofSeconds(30));
      workload.produce(20);
      workload.assertReplicasIdentical();
    }
  }
}
