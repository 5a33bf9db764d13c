package io.skiff.broker.group;

import io.skiff.log.FetchSlice;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays an offsets partition's committed log into the latest offset of every (group, partition)
 * and the latest metadata of every group; tombstones remove what came before. Runs on the
 * coordinator's timer thread when this broker becomes the partition's leader; not thread-safe (one
 * loader per load).
 */
final class OffsetsLoader {
  private static final Logger LOG = LoggerFactory.getLogger(OffsetsLoader.class);
  private static final int READ_BYTES = 1 << 20;
  private static final long CATCH_UP_MS = TimeUnit.SECONDS.toMillis(30);

  /** What a partition's log says: offsets and group metadata by group id. */
  static final class Replayed {
    final Map<String, Map<TopicPartition, CommittedOffset>> offsets = new HashMap<>();
    final Map<String, GroupMetadata> groups = new HashMap<>();
    int records;
  }

  private OffsetsLoader() {}

  /**
   * Waits until the new leader has applied every entry of earlier terms (its high watermark reaches
   * its log end), then reads the log from its start to the high watermark.
   *
   * @return null if leadership was lost while loading
   */
  static Replayed load(OffsetsPartition partition) throws IOException, InterruptedException {
    final ReplicatedPartition replica = partition.replica;
    final long deadline = System.currentTimeMillis() + CATCH_UP_MS;
    while (replica.highWatermark() < replica.logEndOffset()
        && System.currentTimeMillis() < deadline) {
      if (!partition.leading()) {
        return null;
      }
      Thread.sleep(10);
    }
    final Replayed replayed = new Replayed();
    long offset = replica.logStartOffset();
    final long end = replica.highWatermark();
    while (offset < end) {
      if (!partition.leading()) {
        return null;
      }
      final FetchSlice slice = replica.read(offset, READ_BYTES);
      if (slice.isEmpty()) {
        break;
      }
      apply(MemoryRecords.readableRecords(slice.copyToHeap()), replayed);
      offset = slice.nextOffset();
    }
    return replayed;
  }

  private static void apply(MemoryRecords records, Replayed replayed) {
    for (RecordBatch batch : records.batches()) {
      for (Record record : batch) {
        if (!record.hasKey()) {
          continue;
        }
        final ByteBuffer value = record.hasValue() ? record.value() : null;
        final CoordinatorRecords.Decoded decoded;
        try {
          decoded = CoordinatorRecords.decode(record.key(), value);
        } catch (IllegalArgumentException e) {
          LOG.warn(
              "Skipping an unreadable record at offset {}: {}", record.offset(), e.getMessage());
          continue;
        }
        replayed.records++;
        apply(decoded, replayed);
      }
    }
  }

  private static void apply(CoordinatorRecords.Decoded decoded, Replayed replayed) {
    if (decoded instanceof CoordinatorRecords.OffsetRecord o) {
      final Map<TopicPartition, CommittedOffset> offsets =
          replayed.offsets.computeIfAbsent(o.group(), g -> new HashMap<>());
      if (o.value() == null) {
        offsets.remove(o.partition());
      } else {
        offsets.put(o.partition(), o.value());
      }
    } else if (decoded instanceof CoordinatorRecords.GroupRecord g) {
      if (g.value() == null) {
        replayed.groups.remove(g.group());
      } else {
        replayed.groups.put(g.group(), g.value());
      }
    }
  }
}
