package io.skiff.bench;

import io.skiff.log.LogAppendInfo;
import io.skiff.log.LogConfig;
import io.skiff.log.RecordBatch;
import io.skiff.log.SegmentedLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Append throughput of {@link SegmentedLog#appendAsLeader} (and, for comparison, of the follower's
 * {@link SegmentedLog#append}): one operation appends one 16 KiB batch of 16 records with 1 KiB
 * values (uncompressed, built once with kafka-clients). The same buffer is appended over and over:
 * {@code appendAsLeader} rewrites the base offset and leader epoch in place (both lie outside the
 * CRC) and leaves position and limit as they were.
 *
 * <p>Each append validates the batch (CRC32C) and writes it to the active segment's file with a
 * positional write; nothing is fsynced while measuring (the default flush intervals are unbounded),
 * so this measures the page cache path, and writeback of dirty pages by the kernel competes with it
 * once the dirty threshold is passed.
 *
 * <p>The primary result is batches/s; the secondary result {@code megabytes} is MB/s (10^6 bytes of
 * batches appended per second). Parameters: {@code segmentBytes} 1 GiB (Kafka's default) and 64 MiB
 * (rolls a segment about every 4000 batches); {@code buffer} and {@code trim} are described below.
 *
 * <p>Disk use: one temporary log directory per trial, deleted at the end of the trial; it grows by
 * the appended bytes (throughput x run time, several GB per trial on a fast machine) unless {@code
 * trim} is set. The directory is created under {@code java.io.tmpdir}: add {@code -jvmArgsPrepend
 * -Djava.io.tmpdir=/dev/shm} to append to tmpfs (memory) instead of a disk.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {
      BenchSupport.ADD_EXPORTS,
      BenchSupport.ENABLE_NATIVE_ACCESS,
      "-Xms1g",
      "-Xmx1g"
    })
@Threads(1) // the log has one writer; appendAsLeader also rewrites the shared batch buffer
public class LogAppendBenchmark {
  static final int RECORDS_PER_BATCH = 16;
  static final int VALUE_BYTES = 1024;

  /** log.segment.bytes: 1 GiB (the default) or 64 MiB. */
  @Param({"1073741824", "67108864"})
  public int segmentBytes;

  /**
   * Where the batch lives: "heap" (as built by kafka-clients; the file channel copies it to a
   * temporary direct buffer on each write) or "direct" (pass {@code -p buffer=direct}).
   */
  @Param({"heap"})
  public String buffer;

  /**
   * false (the default): the log keeps every byte appended during the trial, so memory and disk use
   * grow with it and the kernel's page cache and writeback take part, as in a broker that retains
   * its data. true: before each iteration the log deletes all its segments (DeleteRecords up to the
   * log end, then retention with a zero file delete delay), so the footprint stays at about one
   * iteration's appends and the page cache reuses freed pages; dirty pages of deleted segments are
   * never written back. This isolates the append code path from the machine's memory and disk.
   */
  @Param({"false"})
  public boolean trim;

  /**
   * log.flush.offset.checkpoint.interval.ms, for {@code appendAndFlush}: 60 000 (Kafka's default
   * and Skiff's) rewrites the recovery-point file once a minute, 0 at every flush (Skiff before).
   */
  @Param({"60000"})
  public long checkpointMs;

  private Path dir;
  private SegmentedLog log;
  private ByteBuffer batch;
  private double batchMegabytes;

  /** Bytes appended, reported per second by JMH: MB/s next to the batches/s primary result. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Bytes {
    /** 10^6 bytes of batches appended; as a rate: MB/s. */
    public double megabytes;

    @Setup(Level.Iteration)
    public void reset() {
      megabytes = 0;
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    final ByteBuffer heap =
        BenchSupport.batch(
            0, RECORDS_PER_BATCH, VALUE_BYTES, System.currentTimeMillis(), new SplittableRandom(1));
    batch =
        switch (buffer) {
          case "heap" -> heap;
          case "direct" -> BenchSupport.directCopy(heap);
          default -> throw new IllegalArgumentException("buffer must be heap or direct: " + buffer);
        };
    batchMegabytes = batch.remaining() / 1e6;
    dir = BenchSupport.tempDir("skiff-append-");
    log =
        SegmentedLog.open(
            dir.resolve("bench-0"),
            LogConfig.builder()
                .segmentBytes(segmentBytes)
                .fileDeleteDelayMs(trim ? 0 : LogConfig.defaults().fileDeleteDelayMs())
                .recoveryPointCheckpointIntervalMs(checkpointMs)
                .build());
  }

  @Setup(Level.Iteration)
  public void trimLog() throws IOException {
    if (trim) {
      final long end = log.logEndOffset();
      log.deleteRecordsBefore(end);
      log.applyRetention(end); // closes the deleted segments' files, which frees their space
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try {
      if (log != null) {
        System.out.printf(
            "%n[append] batch %d bytes, %d batches appended, %d segments, %d bytes kept%n",
            batch.remaining(),
            log.logEndOffset() / RECORDS_PER_BATCH,
            log.segmentCount(),
            log.sizeInBytes());
        log.close();
      }
    } finally {
      BenchSupport.deleteRecursively(dir);
    }
  }

  /** The leader's path: offsets and epoch assigned in place, then validated and written. */
  @Benchmark
  public LogAppendInfo appendAsLeader(Bytes bytes) throws IOException {
    final LogAppendInfo info = log.appendAsLeader(batch, 0);
    bytes.megabytes += batchMegabytes;
    return info;
  }

  /**
   * The follower's path, for comparison: the batch arrives with its offsets assigned (set here to
   * the log end offset, outside the CRC) and {@link SegmentedLog#append} validates it once, where
   * {@code appendAsLeader} validates it twice.
   */
  @Benchmark
  public LogAppendInfo appendAsFollower(Bytes bytes) throws IOException {
    batch.putLong(batch.position() + RecordBatch.BASE_OFFSET_OFFSET, log.logEndOffset());
    final LogAppendInfo info = log.append(batch);
    bytes.megabytes += batchMegabytes;
    return info;
  }

  /**
   * The leader's local write of its own entry since it validates each batch once: {@link
   * SegmentedLog#appendValidated} checks framing and offsets but not the CRC32C, which {@code
   * ReplicatedPartition.append} computed when the request came in. Before that change the leader
   * wrote its entry through {@link SegmentedLog#append}, i.e. {@code appendAsFollower}.
   */
  @Benchmark
  public LogAppendInfo appendValidated(Bytes bytes) throws IOException {
    batch.putLong(batch.position() + RecordBatch.BASE_OFFSET_OFFSET, log.logEndOffset());
    final LogAppendInfo info = log.appendValidated(batch);
    bytes.megabytes += batchMegabytes;
    return info;
  }

  /**
   * A replica's write with fsync on, as each Raft flush makes it for one entry: {@code
   * appendValidated} then {@link SegmentedLog#flush} (fsync of the segment and index msyncs; the
   * recovery-point file is rewritten at most every {@code checkpointMs}).
   */
  @Benchmark
  public LogAppendInfo appendAndFlush(Bytes bytes) throws IOException {
    batch.putLong(batch.position() + RecordBatch.BASE_OFFSET_OFFSET, log.logEndOffset());
    final LogAppendInfo info = log.appendValidated(batch);
    log.flush();
    bytes.megabytes += batchMegabytes;
    return info;
  }

  /**
   * The follower's path as it was: the replicated batch handed over as a read-only buffer (what
   * {@code ByteString.asReadOnlyByteBuffer()} gives), over which {@link java.util.zip.CRC32C}
   * copies the bytes through a fresh temporary array. Compare with {@code appendAsFollower}, which
   * appends an array-backed buffer as a follower now does (through {@code ByteStringView}).
   */
  @Benchmark
  public LogAppendInfo appendAsFollowerReadOnly(Bytes bytes) throws IOException {
    batch.putLong(batch.position() + RecordBatch.BASE_OFFSET_OFFSET, log.logEndOffset());
    final LogAppendInfo info = log.append(batch.asReadOnlyBuffer());
    bytes.megabytes += batchMegabytes;
    return info;
  }
}
