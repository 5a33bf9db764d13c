package io.skiff.broker.admin;

import com.codahale.metrics.Gauge;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A duration histogram with fixed buckets, rendered as a Prometheus {@code histogram} family
 * ({@code _bucket{le=...}}, {@code _sum}, {@code _count}), which Dropwizard's sampled timers cannot
 * give: their reservoirs keep no total and cannot be summed over brokers.
 *
 * <pre>
 *   upper bounds, seconds (le)     0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5
 *                                  1 2.5 5 10 30 60 +Inf
 *   buckets[i]   events with bound[i-1] < duration ≤ bound[i]   (not cumulative; summed on read)
 *   sumNanos     total of every recorded duration
 * </pre>
 *
 * <p>Registered on a Dropwizard registry like any metric ({@code
 * registry.register("kafka.request.total.time[api=Produce]", new LatencyHistogram())}); the family
 * name gets {@code _seconds}. It is a {@link Gauge} of its count only because a Dropwizard registry
 * accepts no other metric types; {@link PrometheusFormat} renders it as a histogram. Thread-safe
 * and lock-free: {@link #record} adds to two {@link LongAdder}s. A reading taken while others
 * record may count an event in a bucket but not yet in the sum; the count is derived from the
 * buckets, so {@code +Inf} always equals {@code _count}.
 */
public final class LatencyHistogram implements Gauge<Long> {

  /** Bucket upper bounds in seconds, ascending; the {@code +Inf} bucket is implicit. */
  static final double[] BOUNDS_SECONDS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
  };

  private static final long[] BOUNDS_NANOS = new long[BOUNDS_SECONDS.length];

  static {
    for (int i = 0; i < BOUNDS_SECONDS.length; i++) {
      BOUNDS_NANOS[i] = Math.round(BOUNDS_SECONDS[i] * TimeUnit.SECONDS.toNanos(1));
    }
  }

  private final LongAdder[] buckets = new LongAdder[BOUNDS_SECONDS.length + 1];
  private final LongAdder sumNanos = new LongAdder();

  public LatencyHistogram() {
    for (int i = 0; i < buckets.length; i++) {
      buckets[i] = new LongAdder();
    }
  }

  /** Records one event that took {@code nanos}; negative durations (clock steps) count as 0. */
  public void record(long nanos) {
    final long duration = Math.max(0, nanos);
    int i = 0;
    while (i < BOUNDS_NANOS.length && duration > BOUNDS_NANOS[i]) {
      i++;
    }
    buckets[i].increment();
    sumNanos.add(duration);
  }

  /** Cumulative counts: element i counts events ≤ {@code BOUNDS_SECONDS[i]}, the last all. */
  long[] cumulativeCounts() {
    final long[] counts = new long[buckets.length];
    long total = 0;
    for (int i = 0; i < buckets.length; i++) {
      total += buckets[i].sum();
      counts[i] = total;
    }
    return counts;
  }

  /** The count, for Dropwizard reporters that see this as a gauge. */
  @Override
  public Long getValue() {
    return count();
  }

  /** Events recorded since creation. */
  public long count() {
    long total = 0;
    for (LongAdder bucket : buckets) {
      total += bucket.sum();
    }
    return total;
  }

  /** Total of the recorded durations, in seconds. */
  public double sumSeconds() {
    return sumNanos.sum() / (double) TimeUnit.SECONDS.toNanos(1);
  }
}
