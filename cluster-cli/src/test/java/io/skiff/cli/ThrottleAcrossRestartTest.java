package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.broker.Broker;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The replication throttle survives a restart of the broker receiving a move's replicas: it lives
 * in the cluster metadata, so the restarted broker applies it again before it serves, {@code
 * cluster status} still shows it, and {@code --cancel} lifts it there too.
 */
@Timeout(900)
class ThrottleAcrossRestartTest extends ThrottledMoveTest {
  private static final String TOPIC = "restarted";
  private static final int PARTITIONS = 2;
  private static final int RECORDS = 16 * 1024 * 1024 / RECORD_BYTES;
  private static final long THROTTLE = 1L << 20;

  @Test
  void aBrokerRestartedMidMoveAppliesTheThrottleAgainAndCancelLiftsIt() throws Exception {
    final PlannedMove move = planMoveToANewBroker(TOPIC, PARTITIONS, RECORDS, "restart-plan.json");
    Broker four = move.joined();
    final Path plan = move.plan();
    executeThrottled(plan, THROTTLE);

    final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (bytesOn(four, TOPIC) < (2L << 20)) {
      assertThat(System.nanoTime()).as("broker 4 starts copying").isLessThan(deadline);
      Thread.sleep(100);
    }
    four = cluster.restart(4);
    assertThat(four.raft().replicaFetcher().throttle().rate())
        .as("the restarted broker read the throttle from the metadata")
        .isEqualTo(THROTTLE);
    assertThat(statusThrottle().asLong()).isEqualTo(THROTTLE);

    final Cli.Run cancelled =
        ok("partition", "reassign", "--plan", plan.toString(), "--cancel", "-o", "json");
    assertThat(cancelled.json().path("throttle_lifted").asBoolean()).isTrue();
    assertThat(statusThrottle().isNull()).isTrue();
    awaitLifted(four);
  }

  private static void awaitLifted(Broker broker) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (broker.raft().replicaFetcher().throttle().isLimited()) {
      assertThat(System.nanoTime()).as("the restarted broker lifts it").isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
