package io.skiff.log;

import static io.skiff.log.CompactedLogReader.keyedBatch;
import static io.skiff.log.CompactedLogReader.readAll;
import static io.skiff.log.CompactedLogs.T0;
import static io.skiff.log.CompactedLogs.compacted;
import static io.skiff.log.CompactedLogs.copy;
import static io.skiff.log.CompactedLogs.isLatest;
import static io.skiff.log.CompactedLogs.latestPerKey;
import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.CompactedLogReader.Entry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cleaner on compressed batches, with a key map too small for the dirty section, and on
 * segments far larger than its buffers.
 */
class LogCleanerBoundsTest {
  private static final long PRODUCER_ID = 42;
  private static final short PRODUCER_EPOCH = 3;

  @TempDir Path dir;
  private final CompactedLogs logs = new CompactedLogs();

  @AfterEach
  void closeLogs() throws IOException {
    logs.closeAll();
  }

  @Test
  void compactsCompressedBatchesKeepingCodecOffsetsAndProducerFields() throws IOException {
    logs.clock().update(T0);
    for (CompressionType codec :
        List.of(
            CompressionType.GZIP,
            CompressionType.SNAPPY,
            CompressionType.LZ4,
            CompressionType.ZSTD)) {
      final SegmentedLog log = logs.open(dir.resolve(codec.name), compacted().build());
      for (int round = 0; round < 20; round++) {
        log.appendAsLeader(idempotentBatch(codec, round), 1);
      }
      final List<Entry> before = readAll(log);
      final long activeBase = log.segmentBaseOffsets().get(log.segmentCount() - 1);

      assertThat(log.compact(log.logEndOffset())).as(codec.name).isGreaterThan(0);

      final List<Entry> after = readAll(log);
      assertThat(after).isSubsetOf(before);
      final List<Entry> cleanable = before.stream().filter(e -> e.offset() < activeBase).toList();
      for (Entry entry : after) {
        if (entry.offset() < activeBase) {
          assertThat(isLatest(cleanable, entry)).as("%s", entry).isTrue();
        }
      }
      assertThat(after).containsAll(latestPerKey(before));
      int emptied = 0;
      int partial = 0;
      for (MutableRecordBatch batch : batchesOf(log)) {
        batch.ensureValid();
        assertThat(batch.producerId()).isEqualTo(PRODUCER_ID);
        assertThat(batch.producerEpoch()).isEqualTo(PRODUCER_EPOCH);
        assertThat(batch.baseSequence()).isEqualTo((int) batch.baseOffset());
        assertThat(batch.lastOffset() - batch.baseOffset()).as("lastOffsetDelta kept").isEqualTo(4);
        final int count = batch.countOrNull();
        if (count == 0) {
          emptied++;
        } else {
          assertThat(batch.compressionType()).isEqualTo(codec);
          partial += count < 5 ? 1 : 0;
        }
      }
      assertThat(emptied).as("batches left as empty headers").isGreaterThan(0);
      assertThat(partial).as("batches recompressed with some records").isGreaterThan(0);
    }
  }

  /** Five records, keys k(r)..k(r+4) mod 8, at sequence 5r: some outlive later rounds. */
  private static ByteBuffer idempotentBatch(CompressionType codec, int round) {
    final SimpleRecord[] records = new SimpleRecord[5];
    for (int i = 0; i < records.length; i++) {
      records[i] =
          new SimpleRecord(
              T0,
              ("k" + (round * 3 + i) % 8).getBytes(StandardCharsets.UTF_8),
              ("v" + round + "-" + i).getBytes(StandardCharsets.UTF_8));
    }
    return MemoryRecords.withIdempotentRecords(
            0L, Compression.of(codec).build(), PRODUCER_ID, PRODUCER_EPOCH, round * 5, 0, records)
        .buffer();
  }

  private static List<MutableRecordBatch> batchesOf(SegmentedLog log) throws IOException {
    final List<MutableRecordBatch> out = new ArrayList<>();
    long offset = log.logStartOffset();
    while (offset < log.logEndOffset()) {
      final FetchSlice slice = log.read(offset, 4096);
      for (MutableRecordBatch batch : MemoryRecords.readableRecords(slice.copyToHeap()).batches()) {
        out.add(batch);
        offset = batch.nextOffset();
      }
    }
    return out;
  }

  @Test
  void aKeyMapTooSmallForTheDirtySectionCleansItOverSeveralPasses() throws IOException {
    logs.clock().update(T0);
    final Path small = dir.resolve("small");
    final Path large = dir.resolve("large");
    final SegmentedLog log =
        logs.open(
            small,
            compacted().cleanerDedupeBufferBytes(LogConfig.MIN_CLEANER_BUFFER_BYTES).build());
    for (int round = 0; round < 3; round++) {
      for (int k = 0; k < 100; k++) {
        log.appendAsLeader(keyedBatch(T0, "key-" + k, "v" + round), 1);
      }
    }
    log.flush();
    copy(small, large);
    final long activeBase = log.segmentBaseOffsets().get(log.segmentCount() - 1);
    final int mapKeys = new CleanerOffsetMap(LogConfig.MIN_CLEANER_BUFFER_BYTES).maxEntries();

    assertThat(log.compact(log.logEndOffset())).isNotNegative(); // the first keys are all new
    assertThat(cleanerCheckpoint(small))
        .as("one pass maps at most the map's keys")
        .isLessThanOrEqualTo(mapKeys)
        .isLessThan(activeBase);
    int passes = 1;
    while (cleanerCheckpoint(small) < activeBase && passes < 100) {
      log.compact(log.logEndOffset());
      passes++;
    }
    assertThat(cleanerCheckpoint(small)).isEqualTo(activeBase);
    assertThat(passes).isGreaterThanOrEqualTo(300 / mapKeys);

    final SegmentedLog reference = logs.open(large, compacted().build());
    reference.compact(reference.logEndOffset());
    assertThat(readAll(log)).isEqualTo(readAll(reference));
    for (long base : log.segmentBaseOffsets()) {
      assertThat(Files.readAllBytes(LogSegment.file(small, base, ".log")))
          .as("segment %d cleaned in %d passes equals the one cleaned in one", base, passes)
          .isEqualTo(Files.readAllBytes(LogSegment.file(large, base, ".log")));
    }
  }

  @Test
  void cleansSegmentsMuchLargerThanItsBuffersWithoutReadingThemWhole() throws IOException {
    logs.clock().update(T0);
    final int segmentBytes = 4 << 20;
    final SegmentedLog log =
        logs.open(
            dir.resolve("large"),
            compacted()
                .segmentBytes(segmentBytes)
                .indexIntervalBytes(4096)
                .cleanerIoBufferBytes(16 << 10)
                .build());
    final String value = "x".repeat(4000);
    final String large = "y".repeat(20_000); // larger than either half of the I/O buffer
    for (int i = 0; log.segmentCount() < 3; i++) {
      log.appendAsLeader(keyedBatch(T0, "key-" + i % 100, i % 500 == 0 ? large : value + i), 1);
    }
    final List<Entry> before = readAll(log);
    warmUpTheCleaner(); // class loading, lambdas and the JCA's MD5 set-up allocate once per JVM
    final com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    final long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
    assertThat(log.compact(log.logEndOffset())).isGreaterThan(0);
    final long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;

    assertThat(allocated)
        .as("heap allocated to clean two %d-byte segments", segmentBytes)
        .isLessThan(segmentBytes / 2); // one segment read whole would be twice this
    assertThat(readAll(log)).containsAll(latestPerKey(before));
    assertThat(readAll(log).size()).isLessThan(before.size() / 2);
  }

  private void warmUpTheCleaner() throws IOException {
    final SegmentedLog small = logs.open(dir.resolve("warm-up"), compacted().build());
    for (int i = 0; i < 100; i++) {
      small.appendAsLeader(keyedBatch(T0, "key-" + i % 10, "v" + i), 1);
    }
    assertThat(small.compact(small.logEndOffset())).isGreaterThan(0);
  }

  private static long cleanerCheckpoint(Path logDir) throws IOException {
    return Long.parseLong(
        Files.readString(logDir.resolve(LogDirectory.CLEANER_CHECKPOINT_FILE)).trim());
  }
}
