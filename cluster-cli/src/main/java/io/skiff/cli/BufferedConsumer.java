package io.skiff.cli;

import io.skiff.log.FetchBuffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * A consumer of one topic's partitions that follows the memory profile's consumer fetch buffer: one
 * {@link LeaderFetcher} per leader broker reserves bytes in a shared {@link FetchBuffer} before
 * each Fetch (a partition's max bytes = its reservation), so fetched-but-unread bytes never exceed
 * the cap (but for one batch larger than a fetch); {@link #poll} drains the buffer a chunk at a
 * time, round-robin over partitions, decodes the chunk's batches with {@link MemoryRecords}, and
 * releases it.
 *
 * <pre>
 *   fetcher per leader ──reserve──▶ FetchBuffer ◀──add── Fetch response
 *   poll(): route handed-off partitions ─▶ chunk ─▶ records ≥ position ─▶ release
 * </pre>
 *
 * <p>Each partition's position (next offset to hand out) moves only forward: records below it (the
 * head of a batch fetched from inside it) are skipped, so a leader change or a retried fetch never
 * hands a record out twice, and chunks of one partition arrive in offset order.
 *
 * <p>Not thread-safe: one thread polls; the fetch threads are internal. Owns its fetchers; the
 * Admin client (for Metadata and offsets) stays the caller's.
 */
final class BufferedConsumer implements AutoCloseable {
  /** The smallest cap: a quarter of it (the largest fetch) holds a default-sized batch (16 KiB). */
  static final long MIN_BUFFER_BYTES = 64 << 10;

  /** The largest fetch of one partition: Kafka's {@code max.partition.fetch.bytes}, 1 MiB. */
  private static final int MAX_PARTITION_FETCH_BYTES = 1 << 20;

  private static final int MIN_PARTITION_FETCH_BYTES = 64 << 10;

  /** One record handed out. */
  record ConsumedRecord(int partition, long offset, long timestamp, String key, String value) {}

  /** What the buffer did: its cap and peak bytes, waits for room, oversized batches. */
  record Stats(
      long bufferBytes,
      long peakBytes,
      long waits,
      long oversized,
      long chunks,
      long bytes,
      long leaderChanges) {}

  private final FetchBuffer<TopicPartition> buffer;
  private final LeaderRouter router;
  private final Map<TopicPartition, Long> positions = new HashMap<>();
  private long chunks;
  private long bytes;

  /**
   * @param bufferBytes the cap on fetched-but-unread bytes, at least {@link #MIN_BUFFER_BYTES}
   * @param resetToEnd where a partition goes when its position fell below the log start
   */
  BufferedConsumer(
      Admin admin,
      Properties clientProperties,
      String topic,
      long bufferBytes,
      boolean resetToEnd,
      Duration timeout) {
    if (bufferBytes < MIN_BUFFER_BYTES) {
      throw new IllegalArgumentException(
          "fetch buffer of " + bufferBytes + " bytes; it needs at least " + MIN_BUFFER_BYTES);
    }
    final int maxFetch = (int) Math.min(MAX_PARTITION_FETCH_BYTES, bufferBytes / 4);
    this.buffer =
        new FetchBuffer<>(bufferBytes, Math.min(MIN_PARTITION_FETCH_BYTES, maxFetch), maxFetch);
    this.router =
        new LeaderRouter(
            admin, clientProperties, topic, resetToEnd, timeout.toNanos(), this.buffer);
  }

  /** Starts fetching each partition from its offset. */
  void start(Map<TopicPartition, Long> offsets) {
    positions.putAll(offsets);
    router.start(offsets);
  }

  /** The next offset to hand out of {@code partition}. */
  long position(TopicPartition partition) {
    return positions.get(partition);
  }

  /**
   * The records of the next chunk in round-robin order, waiting up to {@code timeout}; empty if
   * none came (or all were below their partition's position).
   */
  List<ConsumedRecord> poll(Duration timeout) throws Exception {
    router
        .route()
        .forEach((tp, offset) -> positions.merge(tp, offset, Math::max)); // reset forward only
    final FetchBuffer.Chunk<TopicPartition> chunk = buffer.poll(timeout);
    if (chunk == null) {
      return List.of();
    }
    try {
      chunks++;
      bytes += chunk.bytes();
      return decode(chunk.partition(), chunk.batches());
    } finally {
      buffer.release(chunk);
    }
  }

  private List<ConsumedRecord> decode(TopicPartition tp, ByteBuffer batches) {
    final List<ConsumedRecord> records = new ArrayList<>();
    long position = positions.get(tp);
    for (RecordBatch batch : MemoryRecords.readableRecords(batches).batches()) {
      if (batch.nextOffset() <= position) {
        continue;
      }
      if (!batch.isControlBatch()) {
        for (Record r : batch) {
          if (r.offset() >= position) {
            records.add(
                new ConsumedRecord(
                    tp.partition(), r.offset(), r.timestamp(), text(r.key()), text(r.value())));
          }
        }
      }
      position = batch.nextOffset();
    }
    positions.put(tp, position);
    return records;
  }

  private static String text(ByteBuffer bytes) {
    return bytes == null ? null : StandardCharsets.UTF_8.decode(bytes).toString();
  }

  Stats stats() {
    return new Stats(
        buffer.maxBytes(),
        buffer.peakBytes(),
        buffer.waits(),
        buffer.oversized(),
        chunks,
        bytes,
        router.leaderChanges());
  }

  /** Stops the fetchers. */
  @Override
  public void close() {
    router.close();
  }
}
