package io.skiff.broker.admin;

import com.codahale.metrics.Gauge;
import java.util.function.LongSupplier;

/**
 * An estimate of how much of what consumers fetch comes from the page cache: over each sampling
 * window, {@code 1 − (bytes this process read from disk) ÷ (record bytes served by Fetch)}, clamped
 * to [0, 1]. Fetch sends records with sendfile, which never shows in the heap, so the kernel's
 * per-process {@code read_bytes} ({@code /proc/self/io}) is the honest miss counter: a page-cache
 * hit adds nothing to it. Other disk reads (recovery, index loads) count as misses, so the estimate
 * errs low. The gauge is -1 for a window in which nothing was served, or where {@code /proc} is
 * missing.
 *
 * <p>{@link #sample()} is called by one scheduler thread; the gauge may be read from any thread.
 */
public final class PageCacheHitRatio implements Gauge<Double> {
  private final LongSupplier diskReadBytes;
  private final LongSupplier servedBytes;
  private long lastRead;
  private long lastServed;
  private volatile double ratio = -1;

  /**
   * @param diskReadBytes cumulative bytes read from storage by this process (-1 if unknown)
   * @param servedBytes cumulative record bytes sent by Fetch
   */
  public PageCacheHitRatio(LongSupplier diskReadBytes, LongSupplier servedBytes) {
    this.diskReadBytes = diskReadBytes;
    this.servedBytes = servedBytes;
    this.lastRead = diskReadBytes.getAsLong();
    this.lastServed = servedBytes.getAsLong();
  }

  /** Closes a window: computes the ratio since the previous call. */
  public void sample() {
    final long read = diskReadBytes.getAsLong();
    final long served = servedBytes.getAsLong();
    final long readDelta = read - lastRead;
    final long servedDelta = served - lastServed;
    lastRead = read;
    lastServed = served;
    if (read < 0 || servedDelta <= 0) {
      ratio = -1;
      return;
    }
    ratio = Math.max(0, 1 - (double) Math.max(0, readDelta) / servedDelta);
  }

  @Override
  public Double getValue() {
    return ratio;
  }

  /** Cumulative bytes this process read from storage, from {@code /proc/self/io}; -1 if unknown. */
  public static LongSupplier processDiskReads() {
    final ProcSelf proc = new ProcSelf();
    return () -> proc.ioCounter("read_bytes");
  }
}
