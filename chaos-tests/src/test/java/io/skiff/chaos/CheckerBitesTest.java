package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.cli.verify.Anomaly;
import io.skiff.cli.verify.WorkloadConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 * data. The nemesis restarts the stranded broker only once the survivors elected a leader without
 * it: back earlier, with the longest log, it would have been the one to lead again, keeping what it
 * wrote alone.
 */
class CheckerBitesTest {
  private static final int ATTEMPTS = 3;

  @Test
  @Timeout(value = 12, unit = TimeUnit.MINUTES)
  void acksOneWithAStrandedLeaderKilledLosesAcknowledgedWrites() throws Exception {
    try (ProcessCluster cluster =
        ProcessCluster.start(Path.of("target", "chaos-cluster", "CheckerBitesTest"), 3, Map.of())) {
      ChaosRun run = null;
      final List<StrandedLeaderNemesis> nemeses = new ArrayList<>();
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
                leader -> {
                  final StrandedLeaderNemesis nemesis =
                      new StrandedLeaderNemesis(cluster, leader, Duration.ofSeconds(2));
                  nemeses.add(nemesis);
                  return List.of(nemesis);
                },
                cluster.ids());
        if (run.verdict().anomalies().get(Anomaly.LOST_WRITE) > 0) {
          break;
        }
      }

      // The survivors elect a leader without the stranded broker, even when the first of them to
      // stand lags behind the other (it received less of the dead leader's last entries).
      assertThat(nemeses)
          .as("strandings whose partition had no new leader within 30 s")
          .allSatisfy(n -> assertThat(n.unreplaced()).isZero());
      assertThat(run.verdict().valid()).isFalse();
      assertThat(run.verdict().anomalies().get(Anomaly.LOST_WRITE))
          .as(run.verdict().summary())
          .isPositive();
    }
  }
}
