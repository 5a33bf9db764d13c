package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LogConfigTest {
  @Test
  void defaultsAreKafkas() {
    final LogConfig config = LogConfig.defaults();
    assertThat(config.segmentBytes()).isEqualTo(1 << 30);
    assertThat(config.indexIntervalBytes()).isEqualTo(4096);
    assertThat(config.maxIndexBytes()).isEqualTo(10 << 20);
    assertThat(config.retentionMs()).isEqualTo(7L * 24 * 3600 * 1000);
    assertThat(config.retentionBytes()).isEqualTo(-1);
    assertThat(config.flushIntervalMessages()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void readsKafkaKeyNamesWithKafkasPrecedence() {
    final LogConfig config =
        LogConfig.fromProperties(
            Map.of(
                "log.segment.bytes", "1048576",
                "log.retention.hours", "1",
                "log.retention.minutes", "30",
                "log.roll.hours", "2",
                "log.retention.bytes", "5000000",
                "unrelated.key", "whatever"));
    assertThat(config.segmentBytes()).isEqualTo(1 << 20);
    assertThat(config.retentionMs()).isEqualTo(30 * 60 * 1000L);
    assertThat(config.rollMs()).isEqualTo(2 * 3600 * 1000L);
    assertThat(config.retentionBytes()).isEqualTo(5_000_000L);
  }

  @Test
  void namesTheKeyOfABadValue() {
    assertThatThrownBy(() -> LogConfig.fromProperties(Map.of("log.segment.bytes", "1g")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("log.segment.bytes")
        .hasMessageContaining("'1g'");
    assertThatThrownBy(() -> LogConfig.fromProperties(Map.of("log.segment.bytes", "10")))
        .hasMessageContaining("log.segment.bytes must be >= 1024 but was 10");
    assertThatThrownBy(() -> LogConfig.fromProperties(Map.of("log.retention.ms", "0")))
        .hasMessageContaining("log.retention.ms");
    assertThatThrownBy(() -> LogConfig.fromProperties(Map.of("log.segment.bytes", "9999999999")))
        .hasMessageContaining("int range");
  }

  @Test
  void negativeHoursMeanKeepForever() {
    assertThat(LogConfig.fromProperties(Map.of("log.retention.hours", "-1")).retentionMs())
        .isEqualTo(-1);
  }

  @Test
  void topicOverridesReplaceTheBrokerSettingsUnderTheirTopicNames() {
    final LogConfig broker = LogConfig.builder().retentionMs(1000).segmentBytes(1 << 20).build();
    final LogConfig topic =
        broker.withTopicOverrides(
            Map.of(
                "retention.ms", "-1",
                "segment.bytes", "65536",
                "max.message.bytes", "2048",
                "cleanup.policy", "delete",
                "min.insync.replicas", "2"));
    assertThat(topic.retentionMs()).isEqualTo(-1);
    assertThat(topic.segmentBytes()).isEqualTo(65536);
    assertThat(topic.maxBatchBytes()).isEqualTo(2048);
    assertThat(topic.rollMs()).isEqualTo(broker.rollMs());
    assertThat(broker.withTopicOverrides(Map.of())).isSameAs(broker);
  }

  @Test
  void rejectsATopicOverrideThatIsNotANumber() {
    assertThatThrownBy(
            () -> LogConfig.defaults().withTopicOverrides(Map.of("retention.bytes", "lots")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("retention.bytes");
  }

  @Test
  void readsTheCleanupPolicyAndTheCleanerSettingsWithKafkasDefaults() {
    final LogConfig defaults = LogConfig.defaults();
    assertThat(defaults.delete()).isTrue();
    assertThat(defaults.compact()).isFalse();
    assertThat(defaults.deleteRetentionMs()).isEqualTo(86_400_000L);
    assertThat(defaults.minCleanableDirtyRatio()).isEqualTo(0.5);

    final LogConfig topic =
        defaults.withTopicOverrides(
            Map.of(
                "cleanup.policy", "compact, delete",
                "delete.retention.ms", "1000",
                "min.cleanable.dirty.ratio", "0.1"));
    assertThat(topic.compact()).isTrue();
    assertThat(topic.delete()).isTrue();
    assertThat(topic.policyName()).isEqualTo("compact,delete");
    assertThat(topic.deleteRetentionMs()).isEqualTo(1000);
    assertThat(topic.minCleanableDirtyRatio()).isEqualTo(0.1);
    assertThat(topic.withTopicOverrides(Map.of("segment.bytes", "2048")).compact()).isTrue();

    final LogConfig broker = LogConfig.fromProperties(Map.of("log.cleanup.policy", "compact"));
    assertThat(broker.compact()).isTrue();
    assertThat(broker.delete()).isFalse();
    assertThatThrownBy(() -> defaults.withTopicOverrides(Map.of("cleanup.policy", "shred")))
        .hasMessageContaining("cleanup.policy");
    assertThatThrownBy(() -> defaults.withTopicOverrides(Map.of("min.cleanable.dirty.ratio", "2")))
        .hasMessageContaining("min.cleanable.dirty.ratio");
  }
}
