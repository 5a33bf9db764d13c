package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.LogConfig;
import io.skiff.log.SegmentedLog;
import io.skiff.log.TestBatches;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.AppendResult;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replica whose partition log lost committed batches stops serving and voting for the group. */
class ReplicaGapTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void aReplicaMissingCommittedBatchesLeavesTheGroupInsteadOfApplyingPastThem() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      final PartitionId id = RaftCluster.newPartition("gap", 0);
      cluster.createPartition(id, 1, 2, 3);
      final ReplicatedPartition leader = cluster.leader(id, WAIT);
      for (int i = 0; i < 20; i++) {
        leader.append(TestBatches.batch(0, 5, 100, i), Acks.ALL).get(30, TimeUnit.SECONDS);
      }
      cluster.awaitHighWatermark(id, 100, WAIT);
      final int leaderId = leader.leaderNodeId().orElseThrow();
      final int damaged = leaderId % 3 + 1;
      final Path logDir = cluster.replica(damaged, id).log().dir();
      final LogConfig logConfig = cluster.replica(damaged, id).log().config();

      // As a power cut could leave it: the partition log lost its last 50 committed offsets and
      // the snapshot taken at shutdown is gone, while the Raft log kept every entry.
      cluster.stop(damaged);
      try (SegmentedLog log = SegmentedLog.open(logDir, logConfig)) {
        log.truncateTo(50);
      }
      deleteSnapshots(dir.resolve("node-" + damaged), id);
      cluster.start(damaged);

      final ReplicatedPartition replica = cluster.replica(damaged, id);
      awaitDivisionClosed(cluster.node(damaged), id);
      assertThat(replica.inService()).isFalse();
      assertThat(replica.highWatermark()).isLessThanOrEqualTo(50);
      assertThat(replica.isLeader()).isFalse();

      // The other two carry on.
      final ReplicatedPartition current = cluster.leader(id, WAIT);
      assertThat(current.leaderNodeId().orElseThrow()).isNotEqualTo(damaged);
      final AppendResult more =
          current.append(TestBatches.batch(0, 5, 100, 99), Acks.ALL).get(30, TimeUnit.SECONDS);
      assertThat(more.baseOffset()).isEqualTo(100);
      assertThat(replica.highWatermark()).isLessThanOrEqualTo(50);
    }
  }

  private static void deleteSnapshots(Path nodeDir, PartitionId id) throws IOException {
    final Path sm =
        nodeDir.resolve("raft").resolve(id.groupId().getUuid().toString()).resolve("sm");
    try (Stream<Path> files = Files.list(sm)) {
      for (Path file : files.toList()) {
        Files.delete(file);
      }
    }
  }

  private static void awaitDivisionClosed(RaftNode node, PartitionId id) throws Exception {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      final RaftServer.Division division;
      try {
        division = node.server().getDivision(id.groupId());
      } catch (IOException e) {
        return; // gone altogether
      }
      if (!division.getInfo().isAlive()) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the damaged replica's division of " + id + " is still running");
  }
}
