package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code log.syncfs.interval.min.us}: the least time between two syncfs rounds of a broker's data
 * directory (group commit), 2 ms unless configured, 0 for none; a value outside 0..1 s is refused
 * naming the key.
 */
class BrokerConfigSyncfsIntervalTest {

  @Test
  void roundsAreTwoMillisecondsApartUnlessConfigured() {
    final BrokerConfig defaults = BrokerConfig.fromMap(Map.of("node.id", "1"));
    assertThat(defaults.raft().syncfsIntervalMinMicros()).isEqualTo(2_000);
    assertThat(defaults.effectiveProperties()).containsEntry("log.syncfs.interval.min.us", "2000");

    final BrokerConfig none =
        BrokerConfig.fromMap(
            BrokerConfig.withEnvironment(
                Map.of("node.id", "1"), Map.of("SKIFF_LOG_SYNCFS_INTERVAL_MIN_US", "0")));
    assertThat(none.raft().syncfsIntervalMinMicros()).isZero();
  }

  @Test
  void anIntervalOutsideZeroToOneSecondIsRefusedNamingTheKey() {
    for (String bad : new String[] {"-1", "1000001"}) {
      assertThatThrownBy(
              () -> BrokerConfig.fromMap(Map.of("node.id", "1", "log.syncfs.interval.min.us", bad)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("log.syncfs.interval.min.us")
          .hasMessageContaining(bad);
    }
  }
}
