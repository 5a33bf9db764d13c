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
import org.junit.jupiter.api.io.TempDir;

/**
 * The checker bites: acks=1 producers whose leader is stranded and killed lose acknowledged writes,
 * and the checker says so. A run can miss (the leader may step down before it takes a write alone),
 * so up to three runs are made until one loses data.
 */
class CheckerBitesTest {
  private static final int ATTEMPTS = 3;

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void acksOneWithAStrandedLeaderKilledLosesAcknowledgedWrites(@TempDir Path dir) throws Exception {
    try (ProcessCluster cluster = ProcessCluster.start(dir, 3, Map.of())) {
      ChaosRun run = null;
      for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
        final WorkloadConfig config =
            new WorkloadConfig(
                    cluster.bootstrap(),
                    "acks1-" + attempt,
                    2,
                    3,
                    3,
                    1,
                    1,
                    "1",
                    false,
                    100,
                    Duration.ofSeconds(5))
                .withAcks("1", false);
        run =
            ChaosRun.run(
                "acksOneWithAStrandedLeaderKilledLosesAcknowledgedWrites-" + attempt,
                config,
                Duration.ofSeconds(20),
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
