package io.skiff.bench;

import io.skiff.log.FetchSlice;
import io.skiff.log.LogConfig;
import io.skiff.log.SegmentedLog;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * Fetch path: one operation is {@code log.read(randomOffset, 1 MiB, Long.MAX_VALUE)} on a log of 16
 * KiB batches (16 records of 1 KiB), followed by {@link FetchSlice#transferTo} of the slice to a
 * target:
 *
 * <ul>
 *   <li>{@code none}: no transfer; measures building the slice alone (index lookup plus a header
 *       read for every batch of the slice, about 64 for 1 MiB);
 *   <li>{@code devnull}: a {@link FileChannel} on {@code /dev/null} (sendfile to a file; Linux);
 *   <li>{@code socket}: a blocking loopback TCP connection whose other end a second thread reads
 *       and discards, so on a 2-core machine the reader and the sender each take a core.
 * </ul>
 *
 * <p>The log (about 256 MiB, one segment) is built once per trial and stays in the page cache.
 * Primary result: fetches/s; secondary {@code megabytes}: MB/s (10^6 bytes) of slices returned, and
 * transferred unless the target is {@code none}.
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
@Threads(1) // one target channel; concurrent transfers to it would interleave
public class FetchBenchmark {
  static final int RECORDS_PER_BATCH = 16;
  static final int VALUE_BYTES = 1024;
  static final int LOG_BATCHES = 16_384;
  static final int MAX_BYTES = 1024 * 1024;
  static final int KEYS = 1 << 12;

  /** Where slices go: none, devnull or socket. */
  @Param({"none", "devnull", "socket"})
  public String target;

  private Path dir;
  private SegmentedLog log;
  private final long[] offsets = new long[KEYS];
  private WritableByteChannel channel;
  private ServerSocketChannel server;
  private Thread drainer;

  /** Per-thread position in the pre-generated offsets. */
  @State(Scope.Thread)
  public static class Cursor {
    private int next;

    int next() {
      return next++ & (KEYS - 1);
    }
  }

  /** Bytes fetched, reported per second by JMH. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Bytes {
    /** 10^6 bytes of slices; as a rate: MB/s. */
    public double megabytes;

    @Setup(Level.Iteration)
    public void reset() {
      megabytes = 0;
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = BenchSupport.tempDir("skiff-fetch-");
    log = SegmentedLog.open(dir.resolve("bench-0"), LogConfig.defaults());
    final ByteBuffer batch =
        BenchSupport.directCopy(
            BenchSupport.batch(
                0,
                RECORDS_PER_BATCH,
                VALUE_BYTES,
                System.currentTimeMillis(),
                new SplittableRandom(BenchSupport.SEED)));
    for (int i = 0; i < LOG_BATCHES; i++) {
      log.appendAsLeader(batch, 0);
    }
    // Start offsets that leave a full 1 MiB (about 64 batches) before the log end.
    final long lastStart = log.logEndOffset() - 80L * RECORDS_PER_BATCH;
    final SplittableRandom random = new SplittableRandom(BenchSupport.SEED);
    for (int i = 0; i < KEYS; i++) {
      offsets[i] = random.nextLong(lastStart);
    }
    channel =
        switch (target) {
          case "none" -> null;
          case "devnull" -> FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE);
          case "socket" -> openLoopback();
          default -> throw new IllegalArgumentException("unknown target " + target);
        };
    System.out.printf(
        "%n[fetch] %d bytes in %d segment(s), batch %d bytes, target %s%n",
        log.sizeInBytes(), log.segmentCount(), batch.remaining(), target);
  }

  private SocketChannel openLoopback() throws IOException {
    server =
        ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    final SocketChannel client = SocketChannel.open(server.getLocalAddress());
    final SocketChannel accepted = server.accept();
    drainer =
        new Thread(
            () -> {
              final ByteBuffer sink = ByteBuffer.allocateDirect(1024 * 1024);
              try (accepted) {
                while (accepted.read(sink.clear()) >= 0) {
                  // discard
                }
              } catch (IOException e) {
                // the sender closed the connection at teardown
              }
            },
            "fetch-drainer");
    drainer.setDaemon(true);
    drainer.start();
    return client;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException, InterruptedException {
    try {
      if (channel != null) {
        channel.close();
      }
      if (drainer != null) {
        drainer.join(5_000);
      }
      if (server != null) {
        server.close();
      }
      if (log != null) {
        log.close();
      }
    } finally {
      BenchSupport.deleteRecursively(dir);
    }
  }

  @Benchmark
  public long fetch(Cursor cursor, Bytes bytes) throws IOException {
    final FetchSlice slice = log.read(offsets[cursor.next()], MAX_BYTES, Long.MAX_VALUE);
    final long n = channel == null ? slice.length() : slice.transferTo(channel);
    bytes.megabytes += n / 1e6;
    return n;
  }
}
