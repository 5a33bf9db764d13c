package io.skiff.bench.memory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises the JFR recordings of a set of broker JVMs (any HotSpot JVM: Skiff or Kafka) taken
 * over one benchmark window: heap bytes allocated, and GC pauses.
 *
 * <p>Allocation comes from {@code jdk.ThreadAllocationStatistics}, each thread's cumulative
 * allocated bytes, sampled every second: a thread seen in the first sample counts from that value,
 * a thread born later from zero; the last sample of each thread is its total. (A thread that dies
 * between samples loses at most its last second.) Pauses come from {@code jdk.GarbageCollection}'s
 * {@code sumOfPauses}, one value per collection, over all recordings.
 *
 * <p>Usage: {@code JfrMemoryReport RECORDING.jfr...}; prints one line of {@code key=value} pairs:
 * {@code allocated_bytes}, {@code gc_count}, {@code gc_pause_p50_ms}, {@code gc_pause_p99_ms},
 * {@code gc_pause_max_ms}, {@code gc_pause_total_ms}.
 */
public final class JfrMemoryReport {
  private JfrMemoryReport() {}

  /** The per-recording figures: heap bytes allocated by all threads, and each GC pause. */
  public record Summary(long allocatedBytes, List<Duration> pauses) {}

  public static void main(String[] args) throws IOException {
    if (args.length == 0) {
      System.err.println("usage: JfrMemoryReport RECORDING.jfr...");
      System.exit(2);
    }
    final List<Path> files = new ArrayList<>();
    for (String file : args) {
      files.add(Path.of(file));
    }
    final Summary summary = summarise(files, Instant.MIN, Instant.MAX);
    final List<Duration> pauses = summary.pauses();
    System.out.printf(
        Locale.ROOT,
        "allocated_bytes=%d gc_count=%d gc_pause_p50_ms=%.1f gc_pause_p99_ms=%.1f"
            + " gc_pause_max_ms=%.1f gc_pause_total_ms=%.0f%n",
        summary.allocatedBytes(),
        pauses.size(),
        millis(percentile(pauses, 0.50)),
        millis(percentile(pauses, 0.99)),
        millis(percentile(pauses, 1.0)),
        pauses.stream().mapToDouble(JfrMemoryReport::millis).sum());
  }

  /**
   * The figures of the time window {@code [begin, end]} of recordings that may cover more (dumps of
   * longer recordings; {@link Instant#MIN} to {@link Instant#MAX} for whole ones): heap allocated
   * summed over them, and all their GC pauses, sorted. In each recording a thread's allocation
   * counts from its last sample at or before {@code begin}, or, without one, as described for a
   * whole recording; it ends at its last sample at or before {@code end}. With samples a second
   * apart, the window's edges are a second wide.
   */
  public static Summary summarise(List<Path> recordings, Instant begin, Instant end)
      throws IOException {
    long allocated = 0;
    final List<Duration> pauses = new ArrayList<>();
    for (Path recording : recordings) {
      final Summary s = summariseOne(recording, begin, end);
      allocated += s.allocatedBytes();
      pauses.addAll(s.pauses());
    }
    pauses.sort(null);
    return new Summary(allocated, pauses);
  }

  private static Summary summariseOne(Path recording, Instant begin, Instant end)
      throws IOException {
    // thread id -> its last allocated figure at or before begin
    final Map<Long, Long> before = new HashMap<>();
    final Map<Long, long[]> threads = new HashMap<>(); // thread id -> {first, last} in the window
    final Map<Long, Instant> firstSeen = new HashMap<>();
    Instant firstSample = null;
    final List<Duration> pauses = new ArrayList<>();
    for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
      final Instant at = e.getStartTime();
      if (at.isAfter(end)) {
        continue;
      }
      switch (e.getEventType().getName()) {
        case "jdk.ThreadAllocationStatistics" -> {
          final RecordedThread thread = e.getThread("thread");
          if (thread == null) {
            continue;
          }
          final long id = thread.getJavaThreadId();
          final long bytes = e.getLong("allocated");
          if (!at.isAfter(begin)) {
            before.merge(id, bytes, Math::max);
            continue;
          }
          if (firstSample == null || at.isBefore(firstSample)) {
            firstSample = at;
          }
          firstSeen.merge(id, at, (a, b) -> a.isBefore(b) ? a : b);
          threads.merge(
              id,
              new long[] {bytes, bytes},
              (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
        }
        case "jdk.GarbageCollection" -> {
          if (!at.isBefore(begin)) {
            pauses.add(e.getDuration("sumOfPauses"));
          }
        }
        default -> {}
      }
    }
    long allocated = 0;
    for (Map.Entry<Long, long[]> t : threads.entrySet()) {
      final Long base = before.get(t.getKey());
      if (base != null) {
        allocated += t.getValue()[1] - base;
        continue;
      }
      // Samples of one batch share a timestamp to within a few milliseconds.
      final boolean present =
          Duration.between(firstSample, firstSeen.get(t.getKey())).toMillis() < 500;
      allocated += t.getValue()[1] - (present ? t.getValue()[0] : 0);
    }
    return new Summary(allocated, pauses);
  }

  private static Duration percentile(List<Duration> sorted, double q) {
    if (sorted.isEmpty()) {
      return Duration.ZERO;
    }
    final int index = (int) Math.ceil(q * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  private static double millis(Duration d) {
    return d.toNanos() / 1e6;
  }
}
