package io.skiff.log;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Settings of one partition log, with Kafka's key names and defaults. Immutable and validated: an
 * instance that exists is usable.
 *
 * @param segmentBytes {@code log.segment.bytes}: roll when the active segment would exceed this
 * @param rollMs {@code log.roll.ms} (or {@code log.roll.hours}): roll a non-empty segment older
 *     than this, measured from its first batch's timestamp
 * @param indexIntervalBytes {@code log.index.interval.bytes}: bytes between index entries
 * @param maxIndexBytes {@code log.index.size.max.bytes}: preallocated size of each index file; a
 *     full index rolls the segment
 * @param retentionMs {@code log.retention.ms} (or {@code .minutes}, {@code .hours}); -1 keeps all
 * @param retentionBytes {@code log.retention.bytes}; -1 keeps all
 * @param flushIntervalMessages {@code log.flush.interval.messages}: fsync after this many records
 * @param flushIntervalMs {@code log.flush.interval.ms}: fsync when the last one is this old
 * @param fileDeleteDelayMs {@code log.segment.delete.delay.ms}: how long a deleted segment's file
 *     stays open for reads already under way
 * @param maxBatchBytes {@code message.max.bytes}: the largest batch accepted
 * @param compact {@code cleanup.policy} holds {@code compact}: the {@link LogCleaner} keeps the
 *     latest record per key
 * @param delete {@code cleanup.policy} holds {@code delete}: retention by age and size applies
 * @param deleteRetentionMs {@code delete.retention.ms}: how long a tombstone (a null value) is kept
 *     in a compacted log, measured from its segment's largest timestamp
 * @param minCleanableDirtyRatio {@code min.cleanable.dirty.ratio}: the share of not yet cleaned
 *     bytes among the cleanable ones at which a compacted log is cleaned
 * @param cleanerDedupeBufferBytes {@code log.cleaner.dedupe.buffer.size}: the most heap one cleaner
 *     pass's key map may take (24 B a key); a dirty section with more keys is cleaned over several
 *     passes. A broker setting: topics cannot override it
 * @param cleanerIoBufferBytes {@code log.cleaner.io.buffer.size}: the cleaner's read and write
 *     buffers together (half each); a batch larger than its half is read whole, once. A broker
 *     setting
 * @param recoveryPointCheckpointIntervalMs {@code log.flush.offset.checkpoint.interval.ms}: how
 *     often a flush also rewrites the {@code recovery-point} file (0: at every flush). The recovery
 *     point in memory advances at every flush; the file may lag it by up to this interval, which
 *     costs a longer scan after a crash, never data. A broker setting
 */
public record LogConfig(
    int segmentBytes,
    long rollMs,
    int indexIntervalBytes,
    int maxIndexBytes,
    long retentionMs,
    long retentionBytes,
    long flushIntervalMessages,
    long flushIntervalMs,
    long fileDeleteDelayMs,
    int maxBatchBytes,
    boolean compact,
    boolean delete,
    long deleteRetentionMs,
    double minCleanableDirtyRatio,
    long cleanerDedupeBufferBytes,
    int cleanerIoBufferBytes,
    long recoveryPointCheckpointIntervalMs) {

  public static final String SEGMENT_BYTES = "log.segment.bytes";
  public static final String ROLL_MS = "log.roll.ms";
  public static final String ROLL_HOURS = "log.roll.hours";
  public static final String INDEX_INTERVAL_BYTES = "log.index.interval.bytes";
  public static final String INDEX_SIZE_MAX_BYTES = "log.index.size.max.bytes";
  public static final String RETENTION_MS = "log.retention.ms";
  public static final String RETENTION_MINUTES = "log.retention.minutes";
  public static final String RETENTION_HOURS = "log.retention.hours";
  public static final String RETENTION_BYTES = "log.retention.bytes";
  public static final String FLUSH_INTERVAL_MESSAGES = "log.flush.interval.messages";
  public static final String FLUSH_INTERVAL_MS = "log.flush.interval.ms";
  public static final String SEGMENT_DELETE_DELAY_MS = "log.segment.delete.delay.ms";
  public static final String MESSAGE_MAX_BYTES = "message.max.bytes";
  public static final String CLEANUP_POLICY = "log.cleanup.policy";
  public static final String DELETE_RETENTION_MS = "log.cleaner.delete.retention.ms";
  public static final String MIN_CLEANABLE_RATIO = "log.cleaner.min.cleanable.ratio";
  public static final String CLEANER_DEDUPE_BUFFER_SIZE = "log.cleaner.dedupe.buffer.size";
  public static final String CLEANER_IO_BUFFER_SIZE = "log.cleaner.io.buffer.size";
  public static final String RECOVERY_POINT_CHECKPOINT_INTERVAL_MS =
      "log.flush.offset.checkpoint.interval.ms";

  /** Smallest key map and I/O buffer the cleaner accepts. */
  public static final int MIN_CLEANER_BUFFER_BYTES = 1024;

  /** Smallest segment that still holds one maximal batch header plus a record. */
  public static final int MIN_SEGMENT_BYTES = 1024;

  public LogConfig {
    require(segmentBytes >= MIN_SEGMENT_BYTES, SEGMENT_BYTES, segmentBytes, ">= " + 1024);
    require(rollMs > 0, ROLL_MS, rollMs, "> 0");
    require(indexIntervalBytes >= 0, INDEX_INTERVAL_BYTES, indexIntervalBytes, ">= 0");
    require(maxIndexBytes >= 4 * 12, INDEX_SIZE_MAX_BYTES, maxIndexBytes, ">= 48");
    require(retentionMs == -1 || retentionMs > 0, RETENTION_MS, retentionMs, "-1 or > 0");
    require(
        retentionBytes == -1 || retentionBytes > 0, RETENTION_BYTES, retentionBytes, "-1 or > 0");
    require(flushIntervalMessages > 0, FLUSH_INTERVAL_MESSAGES, flushIntervalMessages, "> 0");
    require(flushIntervalMs > 0, FLUSH_INTERVAL_MS, flushIntervalMs, "> 0");
    require(fileDeleteDelayMs >= 0, SEGMENT_DELETE_DELAY_MS, fileDeleteDelayMs, ">= 0");
    require(
        maxBatchBytes >= RecordBatch.HEADER_SIZE,
        MESSAGE_MAX_BYTES,
        maxBatchBytes,
        ">= " + RecordBatch.HEADER_SIZE);
    if (!compact && !delete) {
      throw new IllegalArgumentException(
          "cleanup.policy must be delete, compact or compact,delete; fix the topic or broker"
              + " config");
    }
    require(deleteRetentionMs >= 0, DELETE_RETENTION_MS, deleteRetentionMs, ">= 0");
    if (!(minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1)) {
      throw new IllegalArgumentException(
          "min.cleanable.dirty.ratio must be between 0 and 1 but was " + minCleanableDirtyRatio);
    }
    require(
        cleanerDedupeBufferBytes >= MIN_CLEANER_BUFFER_BYTES,
        CLEANER_DEDUPE_BUFFER_SIZE,
        cleanerDedupeBufferBytes,
        ">= " + MIN_CLEANER_BUFFER_BYTES);
    require(
        cleanerIoBufferBytes >= MIN_CLEANER_BUFFER_BYTES,
        CLEANER_IO_BUFFER_SIZE,
        cleanerIoBufferBytes,
        ">= " + MIN_CLEANER_BUFFER_BYTES);
    require(
        recoveryPointCheckpointIntervalMs >= 0,
        RECOVERY_POINT_CHECKPOINT_INTERVAL_MS,
        recoveryPointCheckpointIntervalMs,
        ">= 0");
  }

  /** Kafka's defaults: 1 GiB segments, 7-day roll and retention, 4 KiB index interval, 10 MiB. */
  public static LogConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads the keys above from {@code properties}, ignoring keys it does not know (they belong to
   * other modules). Kafka's precedence holds: {@code .ms} over {@code .minutes} over {@code
   * .hours}.
   *
   * @throws IllegalArgumentException naming the key whose value is not a number or out of range
   */
  public static LogConfig fromProperties(Map<String, String> properties) {
    final Builder b = builder();
    final Reader r = new Reader(properties);
    b.segmentBytes(r.intValue(SEGMENT_BYTES, b.segmentBytes));
    b.rollMs(r.durationMs(ROLL_MS, null, ROLL_HOURS, b.rollMs));
    b.indexIntervalBytes(r.intValue(INDEX_INTERVAL_BYTES, b.indexIntervalBytes));
    b.maxIndexBytes(r.intValue(INDEX_SIZE_MAX_BYTES, b.maxIndexBytes));
    b.retentionMs(r.durationMs(RETENTION_MS, RETENTION_MINUTES, RETENTION_HOURS, b.retentionMs));
    b.retentionBytes(r.longValue(RETENTION_BYTES, b.retentionBytes));
    b.flushIntervalMessages(r.longValue(FLUSH_INTERVAL_MESSAGES, b.flushIntervalMessages));
    b.flushIntervalMs(r.longValue(FLUSH_INTERVAL_MS, b.flushIntervalMs));
    b.fileDeleteDelayMs(r.longValue(SEGMENT_DELETE_DELAY_MS, b.fileDeleteDelayMs));
    b.maxBatchBytes(r.intValue(MESSAGE_MAX_BYTES, b.maxBatchBytes));
    b.cleanupPolicy(properties.getOrDefault(CLEANUP_POLICY, "delete"));
    b.deleteRetentionMs(r.longValue(DELETE_RETENTION_MS, b.deleteRetentionMs));
    b.minCleanableDirtyRatio(r.doubleValue(MIN_CLEANABLE_RATIO, b.minCleanableDirtyRatio));
    b.cleanerDedupeBufferBytes(r.longValue(CLEANER_DEDUPE_BUFFER_SIZE, b.cleanerDedupeBufferBytes));
    b.cleanerIoBufferBytes(r.intValue(CLEANER_IO_BUFFER_SIZE, b.cleanerIoBufferBytes));
    b.recoveryPointCheckpointIntervalMs(
        r.longValue(RECOVERY_POINT_CHECKPOINT_INTERVAL_MS, b.recoveryPointCheckpointIntervalMs));
    return b.build();
  }

  /**
   * This config with a topic's overrides applied, under Kafka's topic-level key names ({@code
   * retention.ms}, {@code retention.bytes}, {@code segment.bytes}, {@code segment.ms}, {@code
   * segment.index.bytes}, {@code index.interval.bytes}, {@code max.message.bytes}, {@code
   * flush.messages}, {@code flush.ms}, {@code file.delete.delay.ms}, {@code cleanup.policy}, {@code
   * delete.retention.ms}, {@code min.cleanable.dirty.ratio}); other keys (such as {@code
   * min.insync.replicas}) are not the log's and are ignored.
   *
   * @throws IllegalArgumentException naming the key whose value is not a number or out of range
   */
  public LogConfig withTopicOverrides(Map<String, String> topicConfigs) {
    if (topicConfigs.isEmpty()) {
      return this;
    }
    final Reader r = new Reader(topicConfigs);
    return builder()
        .segmentBytes(r.intValue("segment.bytes", segmentBytes))
        .rollMs(r.longValue("segment.ms", rollMs))
        .indexIntervalBytes(r.intValue("index.interval.bytes", indexIntervalBytes))
        .maxIndexBytes(r.intValue("segment.index.bytes", maxIndexBytes))
        .retentionMs(r.longValue("retention.ms", retentionMs))
        .retentionBytes(r.longValue("retention.bytes", retentionBytes))
        .flushIntervalMessages(r.longValue("flush.messages", flushIntervalMessages))
        .flushIntervalMs(r.longValue("flush.ms", flushIntervalMs))
        .fileDeleteDelayMs(r.longValue("file.delete.delay.ms", fileDeleteDelayMs))
        .maxBatchBytes(r.intValue("max.message.bytes", maxBatchBytes))
        .cleanupPolicy(topicConfigs.getOrDefault("cleanup.policy", policyName()))
        .deleteRetentionMs(r.longValue("delete.retention.ms", deleteRetentionMs))
        .minCleanableDirtyRatio(r.doubleValue("min.cleanable.dirty.ratio", minCleanableDirtyRatio))
        .cleanerDedupeBufferBytes(cleanerDedupeBufferBytes)
        .cleanerIoBufferBytes(cleanerIoBufferBytes)
        .recoveryPointCheckpointIntervalMs(recoveryPointCheckpointIntervalMs)
        .build();
  }

  /** The {@code cleanup.policy} value this config stands for. */
  public String policyName() {
    return compact && delete ? "compact,delete" : compact ? "compact" : "delete";
  }

  private static void require(boolean ok, String key, long value, String rule) {
    if (!ok) {
      throw new IllegalArgumentException(
          key + " must be " + rule + " but was " + value + "; fix it in the broker properties");
    }
  }

  /** Mutable builder starting from Kafka's defaults. */
  public static final class Builder {
    private int segmentBytes = 1024 * 1024 * 1024;
    private long rollMs = TimeUnit.DAYS.toMillis(7);
    private int indexIntervalBytes = 4096;
    private int maxIndexBytes = 10 * 1024 * 1024;
    private long retentionMs = TimeUnit.DAYS.toMillis(7);
    private long retentionBytes = -1;
    private long flushIntervalMessages = Long.MAX_VALUE;
    private long flushIntervalMs = Long.MAX_VALUE;
    private long fileDeleteDelayMs = 60_000;
    private int maxBatchBytes = 1024 * 1024 + 12;
    private boolean compact;
    private boolean delete = true;
    private long deleteRetentionMs = TimeUnit.DAYS.toMillis(1);
    private double minCleanableDirtyRatio = 0.5;
    private long cleanerDedupeBufferBytes = 128L << 20;
    private int cleanerIoBufferBytes = 512 << 10;
    private long recoveryPointCheckpointIntervalMs = 60_000;

    public Builder segmentBytes(int v) {
      segmentBytes = v;
      return this;
    }

    public Builder rollMs(long v) {
      rollMs = v;
      return this;
    }

    public Builder indexIntervalBytes(int v) {
      indexIntervalBytes = v;
      return this;
    }

    public Builder maxIndexBytes(int v) {
      maxIndexBytes = v;
      return this;
    }

    public Builder retentionMs(long v) {
      retentionMs = v;
      return this;
    }

    public Builder retentionBytes(long v) {
      retentionBytes = v;
      return this;
    }

    public Builder flushIntervalMessages(long v) {
      flushIntervalMessages = v;
      return this;
    }

    public Builder flushIntervalMs(long v) {
      flushIntervalMs = v;
      return this;
    }

    public Builder fileDeleteDelayMs(long v) {
      fileDeleteDelayMs = v;
      return this;
    }

    public Builder maxBatchBytes(int v) {
      maxBatchBytes = v;
      return this;
    }

    /**
     * Kafka's {@code cleanup.policy}: a comma-separated list of {@code delete} and {@code compact}.
     */
    public Builder cleanupPolicy(String v) {
      compact = false;
      delete = false;
      for (String policy : v.split(",")) {
        switch (policy.trim()) {
          case "compact" -> compact = true;
          case "delete" -> delete = true;
          default ->
              throw new IllegalArgumentException(
                  "cleanup.policy must be a list of delete and compact but was '" + v + "'");
        }
      }
      return this;
    }

    public Builder deleteRetentionMs(long v) {
      deleteRetentionMs = v;
      return this;
    }

    public Builder minCleanableDirtyRatio(double v) {
      minCleanableDirtyRatio = v;
      return this;
    }

    public Builder cleanerDedupeBufferBytes(long v) {
      cleanerDedupeBufferBytes = v;
      return this;
    }

    public Builder cleanerIoBufferBytes(int v) {
      cleanerIoBufferBytes = v;
      return this;
    }

    public Builder recoveryPointCheckpointIntervalMs(long v) {
      recoveryPointCheckpointIntervalMs = v;
      return this;
    }

    public LogConfig build() {
      return new LogConfig(
          segmentBytes,
          rollMs,
          indexIntervalBytes,
          maxIndexBytes,
          retentionMs,
          retentionBytes,
          flushIntervalMessages,
          flushIntervalMs,
          fileDeleteDelayMs,
          maxBatchBytes,
          compact,
          delete,
          deleteRetentionMs,
          minCleanableDirtyRatio,
          cleanerDedupeBufferBytes,
          cleanerIoBufferBytes,
          recoveryPointCheckpointIntervalMs);
    }
  }

  /** Typed reads of string properties with errors that name the key. */
  private record Reader(Map<String, String> properties) {
    int intValue(String key, int fallback) {
      final long v = longValue(key, fallback);
      if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(key + " is out of the int range: " + v);
      }
      return (int) v;
    }

    long longValue(String key, long fallback) {
      final String raw = properties.get(key);
      if (raw == null || raw.isBlank()) {
        return fallback;
      }
      try {
        return Long.parseLong(raw.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            key + " must be a whole number but was '" + raw + "'", e);
      }
    }

    double doubleValue(String key, double fallback) {
      final String raw = properties.get(key);
      if (raw == null || raw.isBlank()) {
        return fallback;
      }
      try {
        return Double.parseDouble(raw.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + " must be a number but was '" + raw + "'", e);
      }
    }

    long durationMs(String msKey, String minutesKey, String hoursKey, long fallback) {
      if (properties.containsKey(msKey)) {
        return longValue(msKey, fallback);
      }
      if (minutesKey != null && properties.containsKey(minutesKey)) {
        return scaled(minutesKey, TimeUnit.MINUTES);
      }
      if (properties.containsKey(hoursKey)) {
        return scaled(hoursKey, TimeUnit.HOURS);
      }
      return fallback;
    }

    private long scaled(String key, TimeUnit unit) {
      final long v = longValue(key, 0);
      return v < 0 ? -1 : unit.toMillis(v);
    }
  }
}
