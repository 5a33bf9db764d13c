package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code raft.append.entries.in.flight.max}: how many AppendEntries a leader keeps in flight to
 * each follower of each group: one at a time unless configured; a value outside 1..1024 is refused
 * naming the key.
 */
class BrokerConfigAppendEntriesInFlightTest {

  @Test
  void oneInFlightUnlessConfigured() {
    final BrokerConfig defaults = BrokerConfig.fromMap(Map.of("node.id", "1"));
    assertThat(defaults.raft().appendEntriesInFlightMax()).isEqualTo(1);
    assertThat(defaults.effectiveProperties())
        .containsEntry("raft.append.entries.in.flight.max", "1");

    final BrokerConfig eight =
        BrokerConfig.fromMap(
            BrokerConfig.withEnvironment(
                Map.of("node.id", "1"), Map.of("SKIFF_RAFT_APPEND_ENTRIES_IN_FLIGHT_MAX", "8")));
    assertThat(eight.raft().appendEntriesInFlightMax()).isEqualTo(8);
  }

  @Test
  void aValueOutsideOneTo1024IsRefusedNamingTheKey() {
    for (String bad : new String[] {"0", "-1", "1025"}) {
      assertThatThrownBy(
              () ->
                  BrokerConfig.fromMap(
                      Map.of("node.id", "1", "raft.append.entries.in.flight.max", bad)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("raft.append.entries.in.flight.max")
          .hasMessageContaining(bad);
    }
  }
}
