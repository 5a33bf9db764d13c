package io.skiff.broker.memory;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches memory for steady growth that the workload does not explain (the memory profile's leak
 * detector). {@link #record} keeps a window of {@link MemorySnapshot}s (one a minute in a broker)
 * and, once the window spans at least {@code minWindowNanos} (an hour by default), compares its
 * first and last snapshot:
 *
 * <pre>
 *   heap growth / h   = (last.heap − first.heap) / hours
 *   normalised / h    = heap growth / h ÷ (last.partitions / first.partitions)
 *   warn: HEAP        when both exceed the threshold (growth that more partitions explain is fine)
 *   warn: DIRECT      when (last.direct − first.direct) / hours exceeds the threshold
 * </pre>
 *
 * <p>A warning is logged at WARN when it appears and again at most once an hour while it lasts, and
 * counted in {@code memory.leak.warnings}; the gauges {@code memory.leak.heap.bytes_per_hour},
 * {@code .heap.normalised.bytes_per_hour} and {@code .direct.bytes_per_hour} show the latest rates.
 *
 * <p>Thread-safety: {@link #record} from one thread (the scheduler); the getters and gauges from
 * any thread.
 */
public final class MemoryLeakDetector {
  private static final Logger LOG = LoggerFactory.getLogger(MemoryLeakDetector.class);
  private static final double NANOS_PER_HOUR = TimeUnit.HOURS.toNanos(1);

  /** Default growth that counts as a leak. */
  public static final long DEFAULT_THRESHOLD_BYTES_PER_HOUR = 64L << 20;

  /**
   * One observation.
   *
   * @param timeNanos {@link System#nanoTime()} when taken
   * @param heapUsedAfterGc heap bytes live after the latest GC
   * @param directUsed direct buffer bytes in use
   * @param mappedUsed mapped buffer bytes (index files)
   * @param connections Kafka connections open
   * @param partitions partition replicas hosted
   * @param groups consumer groups coordinated
   */
  public record MemorySnapshot(
      long timeNanos,
      long heapUsedAfterGc,
      long directUsed,
      long mappedUsed,
      int connections,
      int partitions,
      int groups) {}

  /** What kind of memory grows. */
  public enum LeakKind {
    HEAP,
    DIRECT
  }

  /**
   * A suspected leak.
   *
   * @param kind heap or direct memory
   * @param bytesPerHour the raw growth rate
   * @param normalisedBytesPerHour the rate divided by the growth in partitions (heap only)
   */
  public record LeakWarning(LeakKind kind, long bytesPerHour, long normalisedBytesPerHour) {
    public String describe() {
      return kind
          + " grows "
          + (bytesPerHour >> 20)
          + " MiB/h ("
          + (normalisedBytesPerHour >> 20)
          + " MiB/h per partition growth)";
    }
  }

  private final long minWindowNanos;
  private final long thresholdBytesPerHour;
  private final int maxSnapshots;
  private final ArrayDeque<MemorySnapshot> snapshots = new ArrayDeque<>();
  private final Counter warningCount = new Counter();
  private volatile List<LeakWarning> warnings = List.of();
  private volatile double heapRate;
  private volatile double heapNormalisedRate;
  private volatile double directRate;
  private long lastLogNanos;

  public MemoryLeakDetector(long minWindowNanos, long thresholdBytesPerHour, int maxSnapshots) {
    if (maxSnapshots < 2) {
      throw new IllegalArgumentException("the leak detector needs at least 2 snapshots");
    }
    this.minWindowNanos = minWindowNanos;
    this.thresholdBytesPerHour = thresholdBytesPerHour;
    this.maxSnapshots = maxSnapshots;
  }

  /** Adds a snapshot, drops the oldest beyond the window, and returns the current warnings. */
  public List<LeakWarning> record(MemorySnapshot snapshot) {
    synchronized (snapshots) {
      snapshots.addLast(snapshot);
      while (snapshots.size() > maxSnapshots) {
        snapshots.removeFirst();
      }
    }
    final List<LeakWarning> found = check();
    if (!found.isEmpty()) {
      warningCount.inc(found.size());
      final boolean fresh = warnings.isEmpty();
      if (fresh || snapshot.timeNanos() - lastLogNanos >= NANOS_PER_HOUR) {
        lastLogNanos = snapshot.timeNanos();
        LOG.warn(
            "Possible memory leak: {}; check /v1/memory and a heap histogram (jmap -histo)",
            String.join(", ", found.stream().map(LeakWarning::describe).toList()));
      }
    }
    warnings = found;
    return found;
  }

  private List<LeakWarning> check() {
    final MemorySnapshot first;
    final MemorySnapshot last;
    synchronized (snapshots) {
      if (snapshots.size() < 2) {
        return List.of();
      }
      first = snapshots.getFirst();
      last = snapshots.getLast();
    }
    final long elapsed = last.timeNanos() - first.timeNanos();
    if (elapsed < minWindowNanos || elapsed <= 0) {
      return List.of();
    }
    final double hours = elapsed / NANOS_PER_HOUR;
    heapRate = (last.heapUsedAfterGc() - first.heapUsedAfterGc()) / hours;
    final double partitionGrowth =
        Math.max(1, last.partitions()) / (double) Math.max(1, first.partitions());
    heapNormalisedRate = heapRate / partitionGrowth;
    directRate = (last.directUsed() - first.directUsed()) / hours;
    final List<LeakWarning> found = new ArrayList<>();
    if (heapRate > thresholdBytesPerHour && heapNormalisedRate > thresholdBytesPerHour) {
      found.add(new LeakWarning(LeakKind.HEAP, (long) heapRate, (long) heapNormalisedRate));
    }
    if (directRate > thresholdBytesPerHour) {
      found.add(new LeakWarning(LeakKind.DIRECT, (long) directRate, (long) directRate));
    }
    return List.copyOf(found);
  }

  /** The warnings of the latest check. */
  public List<LeakWarning> warnings() {
    return warnings;
  }

  /** The newest snapshot, or null before the first. */
  public MemorySnapshot latest() {
    synchronized (snapshots) {
      return snapshots.peekLast();
    }
  }

  public long thresholdBytesPerHour() {
    return thresholdBytesPerHour;
  }

  /** Registers the gauges and counter named in the class comment. */
  public void registerMetrics(MetricRegistry registry) {
    registry.register("memory.leak.warnings", warningCount);
    registry.gauge("memory.leak.heap.bytes_per_hour", () -> () -> (long) heapRate);
    registry.gauge(
        "memory.leak.heap.normalised.bytes_per_hour", () -> () -> (long) heapNormalisedRate);
    registry.gauge("memory.leak.direct.bytes_per_hour", () -> () -> (long) directRate);
  }
}
