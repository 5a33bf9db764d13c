package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code raft.election.timeout.min.ms} / {@code .max.ms}: every Raft group's election timeout on a
 * broker, 30–60 s unless configured (a dead broker's groups are taken over by the survivors long
 * before), from file or environment; a range that cannot work is refused naming both keys. Likewise
 * {@code raft.liveness.interval.ms} / {@code .timeout.ms}, the broker-level failure detector.
 */
class BrokerConfigElectionTimeoutTest {

  @Test
  void groupsElectAfterThirtyToSixtySecondsUnlessConfiguredOtherwise() {
    final BrokerConfig config = BrokerConfig.fromMap(Map.of("node.id", "1"));

    assertThat(config.raft().electionTimeoutMinMs()).isEqualTo(30_000);
    assertThat(config.raft().electionTimeoutMaxMs()).isEqualTo(60_000);
    assertThat(config.effectiveProperties())
        .containsEntry("raft.election.timeout.min.ms", "30000")
        .containsEntry("raft.election.timeout.max.ms", "60000");
  }

  @Test
  void peersAreProbedEveryHalfSecondAndCountedUnreachableAfterFourUnlessConfigured() {
    final BrokerConfig defaults = BrokerConfig.fromMap(Map.of("node.id", "1"));
    assertThat(defaults.raft().livenessIntervalMs()).isEqualTo(500);
    assertThat(defaults.raft().livenessTimeoutMs()).isEqualTo(4_000);
    assertThat(defaults.effectiveProperties())
        .containsEntry("raft.liveness.interval.ms", "500")
        .containsEntry("raft.liveness.timeout.ms", "4000");

    final BrokerConfig configured =
        BrokerConfig.fromMap(
            BrokerConfig.withEnvironment(
                Map.of("node.id", "1", "raft.liveness.interval.ms", "1000"),
                Map.of("SKIFF_RAFT_LIVENESS_TIMEOUT_MS", "9000")));
    assertThat(configured.raft().livenessIntervalMs()).isEqualTo(1_000);
    assertThat(configured.raft().livenessTimeoutMs()).isEqualTo(9_000);
  }

  @Test
  void aLivenessTimeoutOfTwoIntervalsOrLessIsRefusedNamingBothKeys() {
    assertThatThrownBy(
            () ->
                BrokerConfig.fromMap(
                    Map.of(
                        "node.id", "1",
                        "raft.liveness.interval.ms", "1000",
                        "raft.liveness.timeout.ms", "2000")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("raft.liveness.interval.ms")
        .hasMessageContaining("raft.liveness.timeout.ms")
        .hasMessageContaining("2 * interval < timeout");
    assertThatThrownBy(
            () -> BrokerConfig.fromMap(Map.of("node.id", "1", "raft.liveness.interval.ms", "0")))
        .hasMessageContaining("0 < interval");
  }

  @Test
  void environmentVariablesLengthenTheTimeouts() {
    final BrokerConfig config =
        BrokerConfig.fromMap(
            BrokerConfig.withEnvironment(
                Map.of("node.id", "1"),
                Map.of(
                    "SKIFF_RAFT_ELECTION_TIMEOUT_MIN_MS", "5000",
                    "SKIFF_RAFT_ELECTION_TIMEOUT_MAX_MS", "10000")));

    assertThat(config.raft().electionTimeoutMinMs()).isEqualTo(5_000);
    assertThat(config.raft().electionTimeoutMaxMs()).isEqualTo(10_000);
  }

  @Test
  void aRangeThatCannotWorkIsRefusedNamingBothKeys() {
    assertThatThrownBy(
            () ->
                BrokerConfig.fromMap(
                    Map.of(
                        "node.id", "1",
                        "raft.election.timeout.min.ms", "3000",
                        "raft.election.timeout.max.ms", "2000")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("raft.election.timeout.min.ms")
        .hasMessageContaining("raft.election.timeout.max.ms")
        .hasMessageContaining("3000");
    assertThatThrownBy(
            () ->
                BrokerConfig.fromMap(
                    Map.of(
                        "node.id", "1",
                        "raft.election.timeout.min.ms", "10",
                        "raft.election.timeout.max.ms", "20")))
        .hasMessageContaining("100 <= min < max");
  }
}
