package io.skiff.bench;

import io.skiff.log.BatchContentValidator;
import io.skiff.log.RecordBatch;
import io.skiff.log.RecordBatchSequence;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.apache.kafka.common.utils.internals.CloseableIterator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The checks a replica runs on one 16 KiB batch (16 records with 1 KiB values) before writing it,
 * without the write, so the CPU cost shows apart from the file system: {@code crcHeap} is the full
 * check ({@link RecordBatchSequence#validate}, CRC32C) over an array-backed buffer, {@code
 * crcReadOnly} the same over a read-only view (what a follower got from {@code
 * ByteString.asReadOnlyByteBuffer()}: CRC32C copies through a temporary array), and {@code
 * headersOnly} the framing check a leader now runs on its own already-checked entry ({@link
 * RecordBatchSequence#validateHeaders}). The leader's produce-time check of the records inside:
 * {@code recordsWalk} ({@link BatchContentValidator}, which walks an uncompressed batch in place)
 * and {@code recordsKafkaIterator}, the same checks through Kafka's record iterator, which parses
 * each record into an object (what the validator did before). Average time per batch, ns; run with
 * {@code -prof gc} for bytes allocated per batch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {BenchSupport.ADD_EXPORTS, "-Xms1g", "-Xmx1g"})
public class BatchCheckBenchmark {
  private final RecordBatchSequence sequence = new RecordBatchSequence();
  private ByteBuffer heap;
  private ByteBuffer readOnly;

  @Setup
  public void setUp() {
    heap = BenchSupport.batch(0, 16, 1024, System.currentTimeMillis(), new SplittableRandom(1));
    readOnly = heap.asReadOnlyBuffer();
  }

  @Benchmark
  public ByteBuffer crcHeap() {
    sequence.validate(heap, RecordBatch.ANY_SIZE);
    return heap;
  }

  @Benchmark
  public ByteBuffer crcReadOnly() {
    sequence.validate(readOnly, RecordBatch.ANY_SIZE);
    return readOnly;
  }

  @Benchmark
  public ByteBuffer headersOnly() {
    sequence.validateHeaders(heap, RecordBatch.ANY_SIZE);
    return heap;
  }

  @Benchmark
  public ByteBuffer recordsWalk() {
    BatchContentValidator.validate(heap);
    return heap;
  }

  @Benchmark
  public long recordsKafkaIterator() {
    final DefaultRecordBatch batch =
        (DefaultRecordBatch)
            MemoryRecords.readableRecords(heap.duplicate()).batches().iterator().next();
    long expected = batch.baseOffset();
    try (CloseableIterator<Record> records =
        batch.skipKeyValueIterator(BufferSupplier.NO_CACHING)) {
      while (records.hasNext()) {
        if (records.next().offset() != expected++) {
          throw new IllegalStateException("offsets do not run 0, 1, 2, ...");
        }
      }
    }
    return expected;
  }
}
