package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.cli.verify.Verdict;
import io.skiff.cli.verify.WorkloadConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The durability claim under network faults, against three broker containers (one cluster for the
 * class: starting it is the expensive part): the queue workload runs while the leader is cut off
 * the other brokers with iptables, the network turns slow and lossy with tc netem, the leader's
 * container is killed and restarted, and a random minority is cut off; after the heal and the drain
 * the history must be valid. Skipped, saying why, where Docker or the images are missing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class ContainerChaosTest extends SharedClusterChaosTest {
  @Override
  SkiffContainerCluster newCluster() {
    return new SkiffContainerCluster(3, Map.of());
  }

  @Test
  @Order(1)
  void nemesesTakeHoldInTheContainersAndHealLeavesNoTrace() throws Exception {
    final PartitionNemesis partition = PartitionNemesis.isolateLeader(cluster, () -> 1);
    final NetemNemesis netem =
        new NetemNemesis(
            cluster, SkiffContainerCluster.DEVICE, Duration.ofMillis(100), Duration.ofMillis(0), 5);
    final String rulesBefore = cluster.exec(2, "iptables", "-S");

    assertThat(partition.start())
        .isEqualTo("partition: isolated leader [1] | [2, 3] (iptables DROP)");
    try {
      assertThatThrownBy(() -> connect(2, 1)).isInstanceOf(IOException.class);
      connect(2, 3); // the majority still talks
      final String fault = netem.start();
      if (fault.startsWith("netem")) {
        assertThat(cluster.exec(3, "tc", "qdisc", "show", "dev", SkiffContainerCluster.DEVICE))
            .contains("netem")
            .contains("loss 5%");
      } else {
        assertThat(cluster.exec(3, "iptables", "-S")).contains("statistic").contains("NFQUEUE");
      }
      // 100 ms on each broker's egress: the SYN and the SYN-ACK wait 100 ms each
      assertThat(connectMillis(2, 3)).isGreaterThanOrEqualTo(180);
    } finally {
      netem.heal();
      partition.heal();
    }

    connect(2, 1);
    connect(1, 3);
    assertThat(cluster.exec(2, "iptables", "-S")).isEqualTo(rulesBefore);
    assertThat(cluster.exec(3, "tc", "qdisc", "show", "dev", SkiffContainerCluster.DEVICE))
        .doesNotContain("netem");
    assertThatThrownBy(() -> cluster.exec(3, "pgrep", "-f", "java.*PacketDelay"))
        .hasMessageContaining("exited 1"); // no delayer left running
  }

  /** Milliseconds broker {@code from} takes to open a TCP connection to {@code to}'s Raft port. */
  private long connectMillis(int from, int to) throws Exception {
    return Long.parseLong(
        cluster
            .exec(
                from,
                "timeout",
                "10",
                "bash",
                "-c",
                "start=$(date +%s%N); exec 3<>/dev/tcp/"
                    + cluster.ip(to)
                    + "/9093; echo $(( ($(date +%s%N) - start) / 1000000 ))")
            .strip());
  }

  /** Opens a TCP connection from broker {@code from} to {@code to}'s Raft port, in 3 s or fails. */
  private void connect(int from, int to) throws Exception {
    cluster.exec(
        from, "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/" + cluster.ip(to) + "/9093");
  }

  @Test
  @Order(2)
  void acknowledgedWritesSurvivePartitionsBadNetworksAndContainerKills() throws Exception {
    final WorkloadConfig config = WorkloadConfig.durable(cluster.bootstrap(), "partition-netem");

    final ChaosRun run =
        ChaosRun.run(
            "acknowledgedWritesSurvivePartitionsBadNetworksAndContainerKills",
            config,
            ChaosRun.length(Duration.ofSeconds(65)),
            4,
            Duration.ofSeconds(4),
            Duration.ofSeconds(10),
            leader ->
                List.of(
                    PartitionNemesis.isolateLeader(cluster, leader),
                    new NetemNemesis(
                        cluster,
                        SkiffContainerCluster.DEVICE,
                        Duration.ofMillis(100),
                        Duration.ofMillis(50),
                        5),
                    PartitionNemesis.majorityMinority(cluster, 22),
                    new KillNemesis(cluster, leader)),
            cluster.ids());

    assertThat(run.faults()).isGreaterThanOrEqualTo(4);
    run.assertAcknowledgedWritesSurvived(200);
    assertThat(run.verdict().availability())
        .extracting(Verdict.FaultWindow::fault)
        .anyMatch(f -> f.startsWith("partition: isolated leader"))
        .anyMatch(f -> f.startsWith("netem") || f.startsWith("lossy, slow network"))
        .anyMatch(f -> f.startsWith("partition: minority"))
        .anyMatch(f -> f.startsWith("kill -9 broker"));
  }
}
