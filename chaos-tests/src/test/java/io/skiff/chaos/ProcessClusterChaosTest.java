package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.cli.SkiffCli;
import io.skiff.cli.verify.Verdict;
import io.skiff.cli.verify.WorkloadConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The durability claim under faults, against three broker processes: idempotent acks=all producers
 * and consumers keep working while leaders are killed and paused, and the history is valid; and
 * {@code skiff verify} judges the healed cluster valid.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class ProcessClusterChaosTest {
  private ProcessCluster cluster;

  @BeforeAll
  void startCluster() throws Exception {
    cluster =
        ProcessCluster.start(
            Path.of("target", "chaos-cluster", "ProcessClusterChaosTest"), 3, Map.of());
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void acknowledgedWritesSurviveKillsAndPausesOfLeaders() throws Exception {
    final WorkloadConfig config = WorkloadConfig.durable(cluster.bootstrap(), "kill-pause");

    final ChaosRun run =
        ChaosRun.run(
            "acknowledgedWritesSurviveKillsAndPausesOfLeaders",
            config,
            ChaosRun.length(Duration.ofSeconds(50)),
            2,
            Duration.ofSeconds(4),
            Duration.ofSeconds(8),
            leader -> List.of(new KillNemesis(cluster, leader), new PauseNemesis(cluster, leader)),
            cluster.ids());

    assertThat(run.faults()).isGreaterThanOrEqualTo(2);
    run.assertAcknowledgedWritesSurvived(200);
    assertThat(run.verdict().availability()).hasSize(run.faults());
  }

  @Test
  void acknowledgedWritesSurviveStrandedLeadersAndLeaderTransfers() throws Exception {
    final WorkloadConfig config = WorkloadConfig.durable(cluster.bootstrap(), "strand-move");

    try (LeaderTransferNemesis transfer =
        new LeaderTransferNemesis(cluster.bootstrap(), config.topic(), 0)) {
      final ChaosRun run =
          ChaosRun.run(
              "acknowledgedWritesSurviveStrandedLeadersAndLeaderTransfers",
              config,
              ChaosRun.length(Duration.ofSeconds(30)),
              2,
              Duration.ofSeconds(3),
              Duration.ofSeconds(3),
              leader ->
                  List.of(
                      transfer,
                      new StrandedLeaderNemesis(cluster, leader, Duration.ofSeconds(2)),
                      transfer),
              cluster.ids());

      assertThat(run.drained()).isTrue();
      assertThat(run.verdict().valid()).as(run.verdict().summary()).isTrue();
      assertThat(run.verdict().availability())
          .extracting(Verdict.FaultWindow::fault)
          .anyMatch(f -> f.startsWith("moved leadership"))
          .anyMatch(f -> f.startsWith("stranded broker"));
    }
  }

  @Test
  void acknowledgedWritesSurviveARollingRestart() throws Exception {
    final WorkloadConfig config = WorkloadConfig.durable(cluster.bootstrap(), "rolling");

    final ChaosRun run =
        ChaosRun.run(
            "acknowledgedWritesSurviveARollingRestart",
            config,
            ChaosRun.length(Duration.ofSeconds(30)),
            1,
            Duration.ofSeconds(4),
            Duration.ofSeconds(2),
            leader -> List.of(new RollingRestartNemesis(cluster, cluster.ids())),
            cluster.ids());

    run.assertAcknowledgedWritesSurvived(200);
    assertThat(run.verdict().availability())
        .extracting(Verdict.FaultWindow::fault)
        .isNotEmpty()
        .allMatch(f -> f.startsWith("rolling restart (SIGTERM"));
  }

  @Test
  void skiffVerifyJudgesTheClusterValid() throws Exception {
    final Path report = Path.of("target", "chaos", "skiffVerifyJudgesTheClusterValid");
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    final int exit =
        SkiffCli.run(
            new PrintWriter(out),
            new PrintWriter(err),
            "verify",
            "--bootstrap",
            cluster.bootstrap(),
            "--duration",
            "10s",
            "--topic",
            "verify-cli",
            "--rate",
            "50",
            "--report",
            report.toString());

    assertThat(exit).as(out + "\n" + err).isZero();
    assertThat(out.toString()).contains("VALID").contains("report: ");
    assertThat(Files.readString(report.resolve("verdict.txt"))).startsWith("VALID");
    assertThat(report.resolve("index.html")).exists();
    assertThat(report.resolve("latency.png")).exists();
  }
}
