package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.cli.verify.Anomaly;
import io.skiff.cli.verify.WorkloadConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The checker bites: acks=1 producers whose leader is stranded and killed lose acknowledged writes,
 * and the checker says so. The topic has one partition, so every send goes to the stranded leader:
 * with several partitions a producer's next send often went to a paused leader and blocked through
 * the whole stranded window, and three runs in a row once lost nothing. A run can still miss (the
 * leader may step down before it takes a write alone), so up to three runs are made until one loses
 * data.
 */
class CheckerBitesTest {
  private static final int ATTEMPTS = 3;

  @Test
  @Timeout(value = 12, unit = TimeUnit.MINUTES)
  void acksOneWithAStrandedLeaderKilledLosesAcknowledgedWrites() throws Exception {
    try (ProcessCluster cluster =
        ProcessCluster.start(Path.of("target", "chaos-cluster", "CheckerBitesTest"), 3, Map.of())) {
      ChaosRun run = null;
      for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
        final WorkloadConfig config =
            WorkloadConfig.durable(cluster.bootstrap(), "acks1-" + attempt)
                .withAcks("1", false)
                .withPartitions(1);
        run =
            ChaosRun.run(
                "acksOneWithAStrandedLeaderKilledLosesAcknowledgedWrites-" + attempt,
                config,
                Duration.ofSeconds(20),
                1,
                Duration.ofSeconds(3),
                Duration.ofSeconds(3),
                leader ->
                    List.of(new StrandedLeaderNemesis(cluster, leader, Duration.ofSeconds(2))),
                cluster.ids());
        if (run.verdict().anomalies().get(Anomaly.LOST_WRITE) > 0) {
          break;
        }
      }

      assertThat(run.verdict().valid()).isFalse();
      assertThat(run.verdict().anomalies().get(Anomaly.LOST_WRITE))
          .as(run.verdict().summary())
          .isPositive();
    }
  }
}
