package io.skiff.raft.metrics;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.ratis.metrics.Timekeeper;

/**
 * A Ratis timer that keeps a count and a total, nothing else: two striped adds per measurement, no
 * lock, no sample reservoir. Ratis times several steps of every entry on every replica (client
 * write, AppendEntries on the follower and on the leader's appender, log-worker queueing and
 * execution, the log append itself); with Ratis' default registries each of those updated a
 * Dropwizard timer, whose exponentially decaying reservoir took a lock, computed an exponential and
 * inserted into a skip list per measurement (2–4 % of broker CPU under a produce load,
 * docs/benchmarks.md round E). Mean latency is {@code totalNanos / count}; percentiles are not kept
 * (Skiff's own histograms, such as {@code raft.commit.latency}, measure what operators read).
 *
 * <p>Thread-safe: any thread may time and read.
 */
public final class CountingTimer implements Timekeeper {
  private final LongAdder count = new LongAdder();
  private final LongAdder totalNanos = new LongAdder();

  @Override
  public Context time() {
    final long start = System.nanoTime();
    return () -> record(System.nanoTime() - start);
  }

  /** Adds one measurement; returns it. */
  long record(long nanos) {
    count.increment();
    totalNanos.add(nanos);
    return nanos;
  }

  /** Measurements taken so far. */
  public long count() {
    return count.sum();
  }

  /** Sum of the measurements, nanoseconds. */
  public long totalNanos() {
    return totalNanos.sum();
  }

  /** Mean of the measurements in milliseconds, 0 when there were none. */
  public double meanMillis() {
    final long n = count.sum();
    return n == 0 ? 0 : (double) totalNanos.sum() / n / TimeUnit.MILLISECONDS.toNanos(1);
  }
}
