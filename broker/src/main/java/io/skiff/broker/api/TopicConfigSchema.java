package io.skiff.broker.api;

import io.skiff.log.LogConfig;
import io.skiff.log.RecordBatch;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * The topic-level configuration keys Skiff accepts, under Kafka's names, each with the value a
 * topic without an override falls back to: the broker's setting of Kafka's broker-level synonym
 * ({@code retention.ms} → {@code log.retention.ms}) when its properties file changed it, else the
 * built-in default. Checks values for IncrementalAlterConfigs with the bounds {@link LogConfig}
 * enforces, so an accepted override is one the log layer can take.
 *
 * <p>Only what Skiff does is offered: {@code cleanup.policy} is a list of {@code delete} and {@code
 * compact}, {@code compression.type} is {@code producer} (batches are stored as produced), {@code
 * message.timestamp.type} is {@code CreateTime}. Immutable; thread-safe.
 */
public final class TopicConfigSchema {
  /**
   * One topic config key.
   *
   * @param name Kafka's topic-level key
   * @param type its type, as DescribeConfigs reports it (INT, LONG, STRING or LIST)
   * @param brokerKey the broker-level key it falls back to
   * @param defaultValue the value in force without a topic override
   * @param builtInValue the value when the broker's properties do not set {@code brokerKey}
   * @param bound for numbers, the accepted range; null for strings and lists
   */
  public record Key(
      String name,
      ConfigType type,
      String brokerKey,
      String defaultValue,
      String builtInValue,
      Bound bound,
      List<String> choices) {

    /** Where the fallback value comes from: the broker's properties, or the built-in default. */
    public ConfigSource defaultSource() {
      return defaultValue.equals(builtInValue)
          ? ConfigSource.DEFAULT_CONFIG
          : ConfigSource.STATIC_BROKER_CONFIG;
    }

    public boolean isList() {
      return type == ConfigType.LIST;
    }

    /**
     * Checks a value for this key.
     *
     * @return null if it is acceptable, else a message that says what is expected
     */
    public String check(String value) {
      if (value != null && type == ConfigType.DOUBLE) {
        try {
          final double v = Double.parseDouble(value.trim());
          if (v >= 0 && v <= 1) {
            return null;
          }
        } catch (NumberFormatException e) {
          // refused below, with the rule
        }
      } else if (value != null
          && (bound == null ? isAllowed(value.trim()) : isInRange(value.trim()))) {
        return null;
      }
      final String rule =
          bound != null
              ? (type == ConfigType.INT ? "an int " : "a long ") + bound.rule()
              : type == ConfigType.DOUBLE
                  ? "a number from 0 to 1"
                  : choices.size() == 1
                      ? builtInValue + " (the only value Skiff supports)"
                      : (isList() ? "a list of " : "one of ") + String.join(", ", choices);
      return name + " must be " + rule + " but was '" + value + "'";
    }

    private boolean isAllowed(String value) {
      if (!isList()) {
        return choices.contains(value);
      }
      final List<String> items = ListValue.parse(value).items();
      return !items.isEmpty() && choices.containsAll(items);
    }

    private boolean isInRange(String value) {
      try {
        final long v = Long.parseLong(value);
        return bound.test(v) && (type != ConfigType.INT || v <= Integer.MAX_VALUE);
      } catch (NumberFormatException e) {
        return false;
      }
    }
  }

  /** Accepted ranges of numeric keys, as {@link LogConfig} validates them. */
  public enum Bound {
    UNLIMITED_OR_POSITIVE(1, true),
    POSITIVE(1, false),
    NON_NEGATIVE(0, false),
    SEGMENT(LogConfig.MIN_SEGMENT_BYTES, false),
    INDEX(48, false),
    BATCH(RecordBatch.HEADER_SIZE, false);

    private final long min;
    private final boolean unlimited;

    Bound(long min, boolean unlimited) {
      this.min = min;
      this.unlimited = unlimited;
    }

    boolean test(long value) {
      return value >= min || (unlimited && value == -1);
    }

    String rule() {
      return (unlimited ? "-1 (no limit) or " : "") + ">= " + min;
    }
  }

  private final SortedMap<String, Key> keys = new TreeMap<>();

  /**
   * @param brokerLog the broker's partition-log settings (its {@code log.*} properties)
   * @param minInsyncReplicas the broker's {@code min.insync.replicas}
   */
  public TopicConfigSchema(LogConfig brokerLog, int minInsyncReplicas) {
    add(
        new Key(
            "cleanup.policy",
            ConfigType.LIST,
            LogConfig.CLEANUP_POLICY,
            brokerLog.policyName(),
            "delete",
            null,
            List.of("delete", "compact")));
    add(
        new Key(
            "min.cleanable.dirty.ratio",
            ConfigType.DOUBLE,
            LogConfig.MIN_CLEANABLE_RATIO,
            Double.toString(brokerLog.minCleanableDirtyRatio()),
            "0.5",
            null,
            null));
    fixed("compression.type", ConfigType.STRING, "compression.type", "producer");
    fixed("message.timestamp.type", ConfigType.STRING, "log.message.timestamp.type", "CreateTime");
    addLogKeys(new Logs(brokerLog));
    add(
        new Key(
            "min.insync.replicas",
            ConfigType.INT,
            "min.insync.replicas",
            Integer.toString(minInsyncReplicas),
            "1",
            Bound.POSITIVE,
            null));
  }

  private void addLogKeys(Logs logs) {
    logs.longKey(
        "retention.ms",
        LogConfig.RETENTION_MS,
        LogConfig::retentionMs,
        Bound.UNLIMITED_OR_POSITIVE);
    logs.longKey(
        "retention.bytes",
        LogConfig.RETENTION_BYTES,
        LogConfig::retentionBytes,
        Bound.UNLIMITED_OR_POSITIVE);
    logs.intKey("segment.bytes", LogConfig.SEGMENT_BYTES, LogConfig::segmentBytes, Bound.SEGMENT);
    logs.longKey("segment.ms", LogConfig.ROLL_MS, LogConfig::rollMs, Bound.POSITIVE);
    logs.intKey(
        "segment.index.bytes",
        LogConfig.INDEX_SIZE_MAX_BYTES,
        LogConfig::maxIndexBytes,
        Bound.INDEX);
    logs.intKey(
        "index.interval.bytes",
        LogConfig.INDEX_INTERVAL_BYTES,
        LogConfig::indexIntervalBytes,
        Bound.NON_NEGATIVE);
    logs.intKey(
        "max.message.bytes", LogConfig.MESSAGE_MAX_BYTES, LogConfig::maxBatchBytes, Bound.BATCH);
    logs.longKey(
        "flush.messages",
        LogConfig.FLUSH_INTERVAL_MESSAGES,
        LogConfig::flushIntervalMessages,
        Bound.POSITIVE);
    logs.longKey(
        "flush.ms", LogConfig.FLUSH_INTERVAL_MS, LogConfig::flushIntervalMs, Bound.POSITIVE);
    logs.longKey(
        "file.delete.delay.ms",
        LogConfig.SEGMENT_DELETE_DELAY_MS,
        LogConfig::fileDeleteDelayMs,
        Bound.NON_NEGATIVE);
    logs.longKey(
        "delete.retention.ms",
        LogConfig.DELETE_RETENTION_MS,
        LogConfig::deleteRetentionMs,
        Bound.NON_NEGATIVE);
  }

  public Optional<Key> key(String name) {
    return Optional.ofNullable(keys.get(name));
  }

  /** Every key, by name. */
  public Collection<Key> keys() {
    return Collections.unmodifiableCollection(keys.values());
  }

  /** The key names, for error messages. */
  public Set<String> names() {
    return Collections.unmodifiableSet(keys.keySet());
  }

  /** A string (or list) key with one supported value. */
  private void fixed(String name, ConfigType type, String brokerKey, String value) {
    add(new Key(name, type, brokerKey, value, value, null, List.of(value)));
  }

  private void add(Key key) {
    keys.put(key.name(), key);
  }

  /** Adds keys whose fallback is a {@link LogConfig} setting. */
  private final class Logs {
    private final LogConfig broker;
    private final LogConfig builtIn = LogConfig.defaults();

    Logs(LogConfig broker) {
      this.broker = broker;
    }

    void intKey(String name, String brokerKey, ToLongFunction<LogConfig> setting, Bound bound) {
      key(name, ConfigType.INT, brokerKey, setting, bound);
    }

    void longKey(String name, String brokerKey, ToLongFunction<LogConfig> setting, Bound bound) {
      key(name, ConfigType.LONG, brokerKey, setting, bound);
    }

    private void key(
        String name,
        ConfigType type,
        String brokerKey,
        ToLongFunction<LogConfig> setting,
        Bound bound) {
      final String value = Long.toString(setting.applyAsLong(broker));
      final String builtInValue = Long.toString(setting.applyAsLong(builtIn));
      add(new Key(name, type, brokerKey, value, builtInValue, bound, null));
    }
  }
}
