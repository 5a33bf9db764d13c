package io.skiff.log;

import static io.skiff.log.SegmentedLogModelProperties.readAll;
import static io.skiff.log.SegmentedLogModelProperties.splitBatches;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a {@link SegmentedLog} must still hold after a power cut, for the power-cut properties:
 * every batch that was in the log when it was last fsynced ({@link SegmentedLog#flush()}, a clean
 * close) and not removed since by truncation or a moved log start is acknowledged and must come
 * back byte for byte; anything else may be gone, but whatever comes back must be a whole batch that
 * was once appended at that offset ("nothing unacknowledged is half there").
 *
 * <p>Not thread-safe: the property drives the log and the model from one thread.
 */
public final class PowerCutLogModel {
  /** A batch of the log: its offsets and bytes. */
  public record Batch(long base, long last, byte[] bytes) {}

  private final TreeMap<Long, Batch> live = new TreeMap<>();
  private final TreeMap<Long, Batch> acknowledged = new TreeMap<>();
  private final Map<Long, List<byte[]>> everWritten = new HashMap<>();
  private long start;
  private long acknowledgedStart;

  /** The log appended {@code batches} (one or more whole batches, offsets assigned). */
  public void appended(ByteBuffer batches) {
    for (byte[] bytes : splitBatches(TestBatches.bytes(batches))) {
      final ByteBuffer b = ByteBuffer.wrap(bytes);
      final long base = b.getLong(0);
      final long last = base + b.getInt(23);
      final Batch batch = new Batch(base, last, bytes);
      live.put(base, batch);
      everWritten.computeIfAbsent(base, k -> new ArrayList<>()).add(bytes);
    }
  }

  /** The log was fsynced: everything in it is acknowledged. */
  public void synced() {
    acknowledged.clear();
    acknowledged.putAll(live);
    acknowledgedStart = start;
  }

  /** The log was truncated and now ends at {@code end}. */
  public void truncatedTo(long end) {
    live.tailMap(end, true).clear();
    acknowledged.tailMap(end, true).clear();
  }

  /** The log start moved to {@code start}: batches wholly below it may be gone. */
  public void startMovedTo(long start) {
    this.start = start;
    acknowledgedStart = Math.max(acknowledgedStart, start);
    live.headMap(start).entrySet().removeIf(e -> e.getValue().last() < start);
    acknowledged.headMap(start).entrySet().removeIf(e -> e.getValue().last() < start);
  }

  /** The log was restarted empty at {@code offset} (and the restart fsynced). */
  public void restartedAt(long offset) {
    live.clear();
    acknowledged.clear();
    start = offset;
    acknowledgedStart = offset;
  }

  /** After a power cut: the log holds what {@code recovered} holds, all of it on disk. */
  public void recovered(SegmentedLog recovered) throws IOException {
    live.clear();
    final long start = recovered.logStartOffset();
    appended(ByteBuffer.wrap(readAll(recovered, start, recovered.logEndOffset())));
    startMovedTo(start);
    synced();
  }

  /** The end of the acknowledged batches, or -1 if there are none. */
  public long acknowledgedEnd() {
    return acknowledged.isEmpty() ? -1 : acknowledged.lastEntry().getValue().last() + 1;
  }

  /**
   * Checks a log opened on what a power cut left: every acknowledged batch is there byte for byte,
   * and every batch there is a whole one once appended at its offset.
   */
  public void check(SegmentedLog recovered) throws IOException {
    final long start = recovered.logStartOffset();
    final long end = recovered.logEndOffset();
    if (!acknowledged.isEmpty()) {
      assertThat(start)
          .as(
              "log start after the power cut (log end %d), acknowledged from %d: %s",
              end, acknowledgedStart, acknowledged.keySet())
          .isLessThanOrEqualTo(acknowledgedStart);
      assertThat(end).as("log end after the power cut").isGreaterThanOrEqualTo(acknowledgedEnd());
    }
    long offset = start;
    final List<Long> bases = new ArrayList<>();
    for (byte[] bytes : splitBatches(readAll(recovered, start, end))) {
      final ByteBuffer b = ByteBuffer.wrap(bytes);
      final long base = b.getLong(0);
      assertThat(base).as("batches follow on after the power cut").isLessThanOrEqualTo(offset);
      if (base >= start) {
        assertThat(everWritten.getOrDefault(base, List.of()))
            .as("the batch at %d after the power cut was once appended there", base)
            .anySatisfy(w -> assertThat(w).isEqualTo(bytes));
      }
      final Batch acked = acknowledged.get(base);
      if (acked != null) {
        assertThat(bytes).as("acknowledged batch at %d", base).isEqualTo(acked.bytes());
      }
      bases.add(base);
      offset = base + b.getInt(23) + 1;
    }
    assertThat(offset).as("batches read back reach the log end").isEqualTo(end);
    assertThat(bases).as("batch boundaries after the power cut").containsAll(acknowledged.keySet());
  }
}
