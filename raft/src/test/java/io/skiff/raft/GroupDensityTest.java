package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.LogConfig;
import io.skiff.log.TestBatches;
import io.skiff.raft.partition.AppendResult;
import io.skiff.raft.partition.PartitionId;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many partition groups on three nodes in one JVM: every group gets a leader and takes a write, and
 * the number of live platform threads does not grow with the number of groups (Ratis' per-group
 * daemons and executors are virtual threads, see {@link RatisProperties}). Stock Ratis would add
 * about 5.4 platform threads per hosted group, i.e. about 16 per partition here.
 */
class GroupDensityTest {
  private static final int FIRST = 50;
  private static final int SECOND = 200;

  /**
   * Shared threads that come and go, not per group: gRPC's cached executor grows with bursts of
   * RPCs (73 to 148 platform threads once on a machine at load 60), carriers, the common pool.
   * Stock Ratis would add about 2,400 threads here.
   */
  private static final int SLACK = 150;

  private static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir Path dir;

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void platformThreadsDoNotGrowWithTheNumberOfGroups() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, GroupDensityTest::smallGroups)) {
      final List<PartitionId> partitions = new ArrayList<>();
      addLedAndWrittenPartitions(cluster, partitions, FIRST);
      final int atFirst = settledPlatformThreads();

      addLedAndWrittenPartitions(cluster, partitions, SECOND);
      final int atSecond = settledPlatformThreads();

      assertThat(atSecond)
          .as(
              "platform threads with %d groups (was %d with %d groups, 3 replicas each)",
              SECOND, atFirst, FIRST)
          .isLessThanOrEqualTo(atFirst + SLACK);
    }
  }

  /** Long elections so that a loaded machine does not fall into election storms; small buffers. */
  private static RaftNodeConfig smallGroups(RaftNodeConfig c) {
    return c.withElectionTimeout(3_000, 6_000)
        .withLogConfig(
            LogConfig.builder()
                .segmentBytes(256 * 1024)
                .maxIndexBytes(64 * 1024)
                .maxBatchBytes(64 * 1024)
                .build());
  }

  /** Creates partitions up to {@code total}, writes one batch to each through its leader. */
  private static void addLedAndWrittenPartitions(
      RaftCluster cluster, List<PartitionId> partitions, int total) throws Exception {
    for (int i = partitions.size(); i < total; i++) {
      final PartitionId id = RaftCluster.newPartition("density", i);
      cluster.createPartition(id, 1, 2, 3);
      partitions.add(id);
    }
    for (PartitionId id : partitions) {
      final AppendResult ack =
          cluster.appendThroughLeader(WAIT, id, TestBatches.batch(0, 2, 50, 0));
      assertThat(ack.nextOffset()).isPositive();
    }
    for (PartitionId id : partitions) {
      assertThat(cluster.leader(id, WAIT).isLeaderReady()).isTrue();
    }
  }

  /**
   * The fewest live platform threads (virtual threads are not counted) seen over a few seconds, so
   * that a burst of short-lived pool threads does not count.
   */
  private static int settledPlatformThreads() throws InterruptedException {
    int fewest = Integer.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      fewest = Math.min(fewest, ManagementFactory.getThreadMXBean().getThreadCount());
      Thread.sleep(500);
    }
    return fewest;
  }
}
