package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code raft.election.timeout.min.ms} / {@code .max.ms}: every Raft group's election timeout on a
 * broker, 1–2 s unless configured, from file or environment; a range that cannot work is refused
 * naming both keys.
 */
class BrokerConfigElectionTimeoutTest {

  @Test
  void groupsElectAfterOneToTwoSecondsUnlessConfiguredOtherwise() {
    final BrokerConfig config = BrokerConfig.fromMap(Map.of("node.id", "1"));

    assertThat(config.raft().electionTimeoutMinMs()).isEqualTo(1_000);
    assertThat(config.raft().electionTimeoutMaxMs()).isEqualTo(2_000);
    assertThat(config.effectiveProperties())
        .containsEntry("raft.election.timeout.min.ms", "1000")
        .containsEntry("raft.election.timeout.max.ms", "2000");
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
