package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The durability claim on five broker containers, all of them metadata voters, with room for
 * replicas to move: each nemesis alone under the queue workload (a bridge partition, one-way
 * partitions, a full disk, replica moves and decommissions), then all of them mixed on one
 * schedule. Every broker's data directory is a small tmpfs so that a disk can be filled; no test
 * here kills or restarts a container (a tmpfs does not outlive it). Skipped, saying why, where
 * Docker or the images are missing. Tagged {@code five-brokers}: it takes ~15 minutes on two cores,
 * so it runs under {@code -Pchaos-soak}, not in the default build.
 */
@Tag("five-brokers")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class FiveBrokerChaosTest extends SharedClusterChaosTest {
  private static final Duration LENGTH = Duration.ofSeconds(30);

  @Override
  SkiffContainerCluster newCluster() {
    return new SkiffContainerCluster(5, Map.of(), "256m");
  }

  @Test
  @Order(1)
  void acknowledgedWritesSurviveABridgePartition() throws Exception {
    checkBridgePartitions("acknowledgedWritesSurviveABridgePartition", LENGTH);
  }

  @Test
  @Order(2)
  void acknowledgedWritesSurviveOneWayPartitions() throws Exception {
    checkOneWayPartitions("acknowledgedWritesSurviveOneWayPartitions", LENGTH);
  }

  @Test
  @Order(4)
  void acknowledgedWritesSurviveAFullDiskOnTheLeader() throws Exception {
    final ChaosRun run =
        run(
            "acknowledgedWritesSurviveAFullDiskOnTheLeader",
            "disk-full",
            LENGTH,
            2,
            leader ->
                List.of(
                    new DiskFullNemesis(
                        cluster, leader, SkiffContainerCluster.DATA_DIR, LEFT_FREE)));

    assertValid(run);
    assertThat(windows(run)).allMatch(f -> f.startsWith("disk full on broker"));
  }

  @Test
  @Order(5)
  void acknowledgedWritesSurviveReplicaMovesAndDecommissions() throws Exception {
    checkReplicaMovesAndDecommissions(
        "acknowledgedWritesSurviveReplicaMovesAndDecommissions", LENGTH, 5);
  }

  @Test
  @Order(6)
  void acknowledgedWritesSurviveAMixedSchedule() throws Exception {
    final String topic = "mixed";
    try (ReplicaMoveNemesis move = new ReplicaMoveNemesis(skiff, topic, 0, ids(), 6)) {
      final ChaosRun run =
          run(
              "acknowledgedWritesSurviveAMixedSchedule",
              topic,
              LENGTH,
              5,
              leader ->
                  List.of(
                      PartitionNemesis.bridge(cluster, 6),
                      new DiskFullNemesis(
                          cluster, leader, SkiffContainerCluster.DATA_DIR, LEFT_FREE),
                      move,
                      PartitionNemesis.oneWayToLeader(cluster, leader),
                      new DecommissionNemesis(skiff, leader)));

      assertValid(run);
      assertThat(windows(run)).hasSizeGreaterThanOrEqualTo(5);
    }
  }
}
