package io.skiff.broker.group;

import io.skiff.broker.TypedProperties;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The group coordinator's settings, under Kafka's key names.
 *
 * @param offsetsTopicPartitions {@code offsets.topic.num.partitions} (12; Kafka's 50 would be 50
 *     Raft groups per broker here, each with its own log and election timer). Fixed once the {@code
 *     __consumer_offsets} topic exists, since a group's coordinator is the hash of its id modulo
 *     this count.
 * @param offsetsTopicReplicationFactor {@code offsets.topic.replication.factor} (3), capped at the
 *     number of registered brokers when the topic is created
 * @param initialRebalanceDelayMs {@code group.initial.rebalance.delay.ms} (3000): how long the
 *     first rebalance of an empty group waits for more members
 * @param minSessionTimeoutMs {@code group.min.session.timeout.ms} (6000)
 * @param maxSessionTimeoutMs {@code group.max.session.timeout.ms} (1800000)
 * @param offsetsRetentionMs {@code offsets.retention.minutes} (7 days) in ms: committed offsets of
 *     an empty group expire this long after their commit
 * @param offsetsCacheMaxEntries {@code offsets.cache.max.entries} (from the broker: the tier's
 *     offset cache budget ÷ 200 B, e.g. 335 544 on {@code small}; 1000000 without a tier; ~200 B
 *     per entry estimate): committed offsets held in memory by this broker
 * @param offsetCommitTimeoutMs {@code offsets.commit.timeout.ms} (5000): how long a commit waits
 *     for replication
 */
public record GroupConfig(
    int offsetsTopicPartitions,
    short offsetsTopicReplicationFactor,
    int initialRebalanceDelayMs,
    int minSessionTimeoutMs,
    int maxSessionTimeoutMs,
    long offsetsRetentionMs,
    int offsetsCacheMaxEntries,
    int offsetCommitTimeoutMs) {

  /** The keys read by {@link #fromMap}, for environment overrides. */
  public static final List<String> KEYS =
      List.of(
          "offsets.topic.num.partitions",
          "offsets.topic.replication.factor",
          "group.initial.rebalance.delay.ms",
          "group.min.session.timeout.ms",
          "group.max.session.timeout.ms",
          "offsets.retention.minutes",
          "offsets.cache.max.entries",
          "offsets.commit.timeout.ms");

  public GroupConfig {
    require(offsetsTopicPartitions > 0, "offsets.topic.num.partitions must be > 0");
    require(offsetsTopicReplicationFactor > 0, "offsets.topic.replication.factor must be > 0");
    require(initialRebalanceDelayMs >= 0, "group.initial.rebalance.delay.ms must be >= 0");
    require(
        minSessionTimeoutMs > 0 && minSessionTimeoutMs <= maxSessionTimeoutMs,
        "group.min.session.timeout.ms must be > 0 and <= group.max.session.timeout.ms");
    require(offsetsRetentionMs > 0, "offsets.retention.minutes must be > 0");
    require(offsetsCacheMaxEntries > 0, "offsets.cache.max.entries must be > 0");
    require(offsetCommitTimeoutMs > 0, "offsets.commit.timeout.ms must be > 0");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Reads the group settings from broker properties, with Kafka's defaults (see above). */
  public static GroupConfig fromMap(Map<String, String> values) {
    return fromMap(values, 1_000_000);
  }

  /**
   * Reads the group settings; {@code offsets.cache.max.entries} defaults to {@code
   * defaultCacheEntries} (the tier's offset cache budget ÷ the estimated bytes per entry).
   */
  public static GroupConfig fromMap(Map<String, String> values, long defaultCacheEntries) {
    final TypedProperties k = new TypedProperties(values);
    return new GroupConfig(
        k.intValue("offsets.topic.num.partitions", 12),
        (short) k.intValue("offsets.topic.replication.factor", 3),
        k.intValue("group.initial.rebalance.delay.ms", 3000),
        k.intValue("group.min.session.timeout.ms", 6000),
        k.intValue("group.max.session.timeout.ms", 1_800_000),
        TimeUnit.MINUTES.toMillis(k.longValue("offsets.retention.minutes", 7 * 24 * 60L)),
        k.intValue(
            "offsets.cache.max.entries", (int) Math.min(Integer.MAX_VALUE, defaultCacheEntries)),
        k.intValue("offsets.commit.timeout.ms", 5000));
  }

  /** The settings in force under their property keys. */
  public SortedMap<String, String> properties() {
    final SortedMap<String, String> p = new TreeMap<>();
    p.put("offsets.topic.num.partitions", Integer.toString(offsetsTopicPartitions));
    p.put("offsets.topic.replication.factor", Short.toString(offsetsTopicReplicationFactor));
    p.put("group.initial.rebalance.delay.ms", Integer.toString(initialRebalanceDelayMs));
    p.put("group.min.session.timeout.ms", Integer.toString(minSessionTimeoutMs));
    p.put("group.max.session.timeout.ms", Integer.toString(maxSessionTimeoutMs));
    p.put(
        "offsets.retention.minutes",
        Long.toString(TimeUnit.MILLISECONDS.toMinutes(offsetsRetentionMs)));
    p.put("offsets.cache.max.entries", Integer.toString(offsetsCacheMaxEntries));
    p.put("offsets.commit.timeout.ms", Integer.toString(offsetCommitTimeoutMs));
    return p;
  }
}
