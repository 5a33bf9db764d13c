package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.cli.verify.Verdict;
import io.skiff.cli.verify.WorkloadConfig;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Chaos tests whose methods share one container cluster, started once for the class (starting it is
 * the expensive part) and closed after its last test: the cluster, a {@code skiff} command line
 * against it, and the run-and-check of one nemesis schedule under the durable queue workload with
 * the checks every such run makes. A subclass says which cluster it wants in {@link #newCluster()}.
 * Skipped, saying why, where Docker or the images are missing.
 *
 * <p>Not thread-safe: JUnit runs a class's tests one after another on one instance.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SharedClusterChaosTest {
  /** Under the broker's 1 MiB reserve: every append to the full broker is refused. */
  static final long LEFT_FREE = 512 * 1024;

  SkiffContainerCluster cluster;
  SkiffCommandLine skiff;

  /** The cluster for this class's tests, not started yet. */
  abstract SkiffContainerCluster newCluster();

  @BeforeAll
  final void startCluster() {
    SkiffImage.requireDocker();
    cluster = newCluster().start();
    skiff = new SkiffCommandLine(cluster.bootstrap(), cluster.admin(), Duration.ofMinutes(4));
  }

  @AfterAll
  final void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /**
   * Runs the durable queue workload on {@code topic} for {@code length} (or the soak length) under
   * {@code nemeses}, 8 s faults after 4 s quiet, until {@code minFaults} were injected.
   */
  final ChaosRun run(
      String name,
      String topic,
      Duration length,
      int minFaults,
      Function<LeaderLocator, List<Nemesis>> nemeses)
      throws Exception {
    return ChaosRun.run(
        name,
        WorkloadConfig.durable(cluster.bootstrap(), topic),
        ChaosRun.length(length),
        minFaults,
        Duration.ofSeconds(4),
        Duration.ofSeconds(8),
        nemeses,
        ids());
  }

  /**
   * Runs bridge partitions (two halves that cannot reach each other, one broker reaching both) on
   * topic {@code bridge} and checks the run: valid, every window a bridge.
   */
  final void checkBridgePartitions(String name, Duration length) throws Exception {
    final ChaosRun run =
        run(name, "bridge", length, 2, leader -> List.of(PartitionNemesis.bridge(cluster, 22)));

    assertValid(run);
    assertThat(windows(run)).allMatch(f -> f.startsWith("partition: bridge"));
  }

  /**
   * Runs one-way partitions to and from the leader on topic {@code one-way} and checks the run:
   * valid, with windows of both directions.
   */
  final void checkOneWayPartitions(String name, Duration length) throws Exception {
    final ChaosRun run =
        run(
            name,
            "one-way",
            length,
            2,
            leader ->
                List.of(
                    PartitionNemesis.oneWayToLeader(cluster, leader),
                    PartitionNemesis.oneWayFromLeader(cluster, leader)));

    assertValid(run);
    assertThat(windows(run))
        .anyMatch(f -> f.matches("partition: one-way: \\[.*] -> \\d dropped"))
        .anyMatch(f -> f.matches("partition: one-way: \\d -> \\[.*] dropped"));
  }

  /**
   * Runs replica moves of partition 0 of topic {@code moves} ({@code seed} picks them) and a
   * decommission of its leader, and checks the run: valid, with windows of both kinds.
   */
  final void checkReplicaMovesAndDecommissions(String name, Duration length, long seed)
      throws Exception {
    final String topic = "moves";
    try (ReplicaMoveNemesis move = new ReplicaMoveNemesis(skiff, topic, 0, ids(), seed)) {
      final ChaosRun run =
          run(
              name,
              topic,
              length,
              3,
              leader -> List.of(move, new DecommissionNemesis(skiff, leader), move));

      assertValid(run);
      assertThat(windows(run))
          .anyMatch(f -> f.startsWith("replica move of"))
          .anyMatch(f -> f.startsWith("decommission of broker"));
    }
  }

  /** Acknowledged writes survived, and every fault injected has its availability window. */
  static void assertValid(ChaosRun run) {
    // progress, not throughput: a loaded 2-core machine runs four or five brokers slowly
    run.assertAcknowledgedWritesSurvived(20);
    assertThat(run.verdict().availability()).hasSize(run.faults());
  }

  /** The faults of the run's availability windows, as the nemeses described them. */
  static List<String> windows(ChaosRun run) {
    return run.verdict().availability().stream().map(Verdict.FaultWindow::fault).toList();
  }

  final List<Integer> ids() {
    return cluster.ids();
  }
}
