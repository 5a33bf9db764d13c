package io.skiff.bench.raft;

import io.skiff.raft.RaftNode;
import io.skiff.raft.RaftNodeConfig;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.ratis.protocol.RaftPeer;

/**
 * One replica of {@link ReplicationThroughput}, in its own JVM so that {@code /proc/self/io} is its
 * own. Hosts one partition (RF=3) directly through {@link RaftNode#createPartition}. Commands on
 * stdin: {@code BASELINE}, {@code PRODUCE seconds inFlight records valueBytes [profile]} (acted on
 * by the leader only), {@code PROFILE seconds} (followers only), {@code AWAIT offset}, {@code
 * MEASURE}; answers as {@code @@} lines.
 *
 * <p>Arguments: {@code nodeId port peers dataDir fsync}.
 */
public final class ReplicationNode {
  static final PartitionId PARTITION =
      new PartitionId(
          "bench", UUID.nameUUIDFromBytes("skiff/bench".getBytes(StandardCharsets.UTF_8)), 0);

  private ReplicationNode() {}

  public static void main(String[] args) throws Exception {
    Thread.setDefaultUncaughtExceptionHandler(
        (t, e) -> {
          ChildJvm.reply("ERROR", "thread=" + t.getName(), RaftScaleNode.oneLine(e));
          e.printStackTrace();
        });
    final int nodeId = Integer.parseInt(args[0]);
    final int port = Integer.parseInt(args[1]);
    final Map<Integer, String> peers = RaftScaleNode.parsePeers(args[2]);
    final Path dataDir = Path.of(args[3]);
    final boolean fsync = Boolean.parseBoolean(args[4]);

    final RaftNodeConfig config =
        RaftNodeConfig.defaults(nodeId, "127.0.0.1", port, dataDir).withFsync(fsync);
    final RaftNode node = new RaftNode(config);
    node.start();
    final List<RaftPeer> group = new ArrayList<>();
    peers.forEach((id, address) -> group.add(RaftNode.peer(id, address)));
    final ReplicatedPartition partition = node.createPartition(PARTITION, group);
    ChildJvm.reply("READY");

    final ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              final Thread t = new Thread(r, "bench-sampler");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleWithFixedDelay(
        () ->
            ChildJvm.reply(
                "STATUS", "leader=" + partition.isLeaderReady(), "hw=" + partition.highWatermark()),
        0,
        500,
        TimeUnit.MILLISECONDS);

    final DiskUsage disk = new DiskUsage(dataDir);
    long writeBytes0 = 0;
    long wchar0 = 0;
    long cancelled0 = 0;
    long ticks0 = 0;
    long t0 = 0;
    java.util.concurrent.ScheduledFuture<?> sampler = null;
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        final String[] cmd = line.trim().split("\\s+");
        switch (cmd[0]) {
          case "BASELINE" -> {
            disk.baseline();
            sampler =
                timer.scheduleWithFixedDelay(
                    () -> {
                      try {
                        disk.sample();
                      } catch (Exception e) {
                        ChildJvm.reply("SAMPLEERROR", RaftScaleNode.oneLine(e));
                      }
                    },
                    200,
                    200,
                    TimeUnit.MILLISECONDS);
            writeBytes0 = ProcStats.io("write_bytes");
            wchar0 = ProcStats.io("wchar");
            cancelled0 = ProcStats.io("cancelled_write_bytes");
            ticks0 = ProcStats.cpuTicks();
            t0 = System.nanoTime();
            ChildJvm.reply("BASELINED");
          }
          case "PROFILE" -> {
            if (!partition.isLeaderReady()) {
              profile(Integer.parseInt(cmd[1])).forEach(l -> ChildJvm.reply("PROF", l));
              ChildJvm.reply("PROFDONE");
            }
          }
          case "PRODUCE" -> {
            if (partition.isLeaderReady()) {
              final int seconds = Integer.parseInt(cmd[1]);
              final List<String> profiled = new java.util.concurrent.CopyOnWriteArrayList<>();
              Thread profiler = null;
              if (cmd.length > 5 && cmd[5].equals("profile")) {
                profiler = new Thread(() -> profiled.addAll(profile(seconds)), "bench-profiler");
                profiler.setDaemon(true);
                profiler.start();
              }
              produce(
                  partition,
                  Integer.parseInt(cmd[1]),
                  Integer.parseInt(cmd[2]),
                  Integer.parseInt(cmd[3]),
                  Integer.parseInt(cmd[4]));
              if (profiler != null) {
                profiler.join();
                profiled.forEach(l -> ChildJvm.reply("PROF", l));
                ChildJvm.reply("PROFDONE");
              }
            }
          }
          case "AWAIT" -> {
            final long target = Long.parseLong(cmd[1]);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (partition.highWatermark() < target && System.nanoTime() < deadline) {
              Thread.sleep(20);
            }
            ChildJvm.reply(
                "CAUGHTUP",
                "hw=" + partition.highWatermark(),
                "logEnd=" + partition.logEndOffset());
          }
          case "MEASURE" -> {
            if (sampler != null) {
              sampler.cancel(false);
            }
            final double seconds = (System.nanoTime() - t0) / 1e9;
            final long ticks = ProcStats.cpuTicks() - ticks0;
            final StringBuilder growth = new StringBuilder();
            disk.growth().forEach((k, v) -> growth.append(' ').append(k).append('=').append(v));
            ChildJvm.reply("DISK" + growth);
            ChildJvm.reply(
                "IO",
                "write_bytes=" + (ProcStats.io("write_bytes") - writeBytes0),
                "wchar=" + (ProcStats.io("wchar") - wchar0),
                "cancelled_write_bytes=" + (ProcStats.io("cancelled_write_bytes") - cancelled0),
                "cpuPercent="
                    + String.format(
                        "%.1f", 100.0 * ticks / ProcStats.CLOCK_TICKS_PER_SECOND / seconds),
                "seconds=" + String.format("%.1f", seconds));
          }
          case "EXIT" -> Runtime.getRuntime().halt(0);
          default -> ChildJvm.reply("ERROR", "unknown command " + line);
        }
      }
    }
    Runtime.getRuntime().halt(0);
  }

  /**
   * Samples every thread's stack every 50 ms for {@code seconds} and returns the most frequent
   * (thread category, state, top frame) of RUNNABLE and BLOCKED threads, with their share of the
   * samples: where this replica spends its time while the leader produces.
   */
  static List<String> profile(int seconds) {
    final Map<String, Integer> counts = new java.util.HashMap<>();
    final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    int samples = 0;
    while (System.nanoTime() < end) {
      for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
        final Thread t = e.getKey();
        final Thread.State state = t.getState();
        final StackTraceElement[] stack = e.getValue();
        if (stack.length == 0
            || t == Thread.currentThread()
            || (state != Thread.State.RUNNABLE && state != Thread.State.BLOCKED)) {
          continue;
        }
        final String frame = stack[0].getClassName() + "." + stack[0].getMethodName();
        counts.merge(
            ProcStats.threadCategory(t.getName()) + " " + state + " " + frame, 1, Integer::sum);
      }
      samples++;
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    final List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(Map.Entry.<String, Integer>comparingByValue().reversed());
    final List<String> lines = new ArrayList<>();
    for (Map.Entry<String, Integer> e : sorted.subList(0, Math.min(15, sorted.size()))) {
      lines.add(String.format("%.0f%% %s", 100.0 * e.getValue() / samples, e.getKey()));
    }
    return lines;
  }

  /** One uncompressed Kafka v2 batch of {@code records} records with random values, no keys. */
  static ByteBuffer batch(int records, int valueBytes) {
    final Random random = new Random(42);
    final SimpleRecord[] simple = new SimpleRecord[records];
    for (int i = 0; i < records; i++) {
      final byte[] value = new byte[valueBytes];
      random.nextBytes(value);
      simple[i] = new SimpleRecord(System.currentTimeMillis(), null, value);
    }
    return MemoryRecords.withRecords(0L, Compression.NONE, simple).buffer();
  }

  private static void produce(
      ReplicatedPartition partition, int seconds, int inFlight, int records, int valueBytes)
      throws InterruptedException {
    final ByteBuffer template = batch(records, valueBytes);
    final int batchBytes = template.remaining();
    final Histogram latencyMicros = new SynchronizedHistogram(60_000_000L, 3);
    final Semaphore permits = new Semaphore(inFlight);
    final AtomicLong acked = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong lastOffset = new AtomicLong();
    final AtomicLong firstError = new AtomicLong();
    final long start = System.nanoTime();
    final long end = start + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      permits.acquire();
      final long sent = System.nanoTime();
      partition
          .append(template.duplicate(), Acks.ALL)
          .whenComplete(
              (result, error) -> {
                if (error == null) {
                  latencyMicros.recordValue((System.nanoTime() - sent) / 1000);
                  acked.incrementAndGet();
                  lastOffset.accumulateAndGet(result.nextOffset(), Math::max);
                } else {
                  failed.incrementAndGet();
                  if (firstError.compareAndSet(0, 1)) {
                    ChildJvm.reply("APPENDERROR", RaftScaleNode.oneLine(error));
                  }
                }
                permits.release();
              });
    }
    permits.acquire(inFlight); // drain
    final double elapsed = (System.nanoTime() - start) / 1e9;
    ChildJvm.reply(
        "PRODUCED",
        "acked=" + acked.get(),
        "failed=" + failed.get(),
        "batchBytes=" + batchBytes,
        "bytes=" + acked.get() * batchBytes,
        "valueBytes=" + acked.get() * (long) records * valueBytes,
        "seconds=" + String.format("%.2f", elapsed),
        "lastOffset=" + lastOffset.get(),
        "p50us=" + latencyMicros.getValueAtPercentile(50),
        "p99us=" + latencyMicros.getValueAtPercentile(99),
        "p999us=" + latencyMicros.getValueAtPercentile(99.9),
        "maxUs=" + latencyMicros.getMaxValue());
  }
}
