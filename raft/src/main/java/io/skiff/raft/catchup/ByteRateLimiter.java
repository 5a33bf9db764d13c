package io.skiff.raft.catchup;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A token bucket over bytes whose rate can change at any time, or be lifted: the replication
 * throttle ({@code follower.replication.throttled.rate}) that new replicas' catch-up on this broker
 * obeys, shared by all of them.
 *
 * <pre>
 *   tokens ──refill rate bytes/s, up to burst = rate / 8 (125 ms)──▶ bucket
 *   acquire(n): wait while tokens &lt; 0, then tokens -= n   (one request may take the bucket below 0)
 *   refund(n):  tokens += n                                 (a reply smaller than was asked for)
 * </pre>
 *
 * <p>Over any window of {@code w} seconds at most {@code rate * w + burst + one request} bytes
 * pass, so callers cut requests to {@link #chunkBytes(int)} (also an eighth of a second's worth):
 * 1.25 times the rate over a one-second window, 1.125 over two. Written here rather than taken from
 * Guava (whose {@code RateLimiter} Ratis' thirdparty jar relocates): Guava's stores a whole second
 * of unused permits, which lets a catch-up that paused burst to twice the rate, and a waiter there
 * cannot be woken when the throttle is lifted.
 *
 * <p>Thread-safe: every method synchronizes on this object; waiters wake when the rate changes.
 */
public final class ByteRateLimiter {
  /** No limit. */
  public static final long UNLIMITED = 0;

  private static final long BURST_DIVISOR = 8;
  private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);

  private final LongSupplier nanoClock;
  private long rate; // bytes per second; UNLIMITED when <= 0
  private double tokens;
  private long refilledAt;

  /** An unlimited limiter on the system's monotonic clock. */
  public ByteRateLimiter() {
    this(System::nanoTime);
  }

  ByteRateLimiter(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.refilledAt = nanoClock.getAsLong();
  }

  /** Sets the rate in bytes per second; {@link #UNLIMITED} (or any value &lt;= 0) lifts it. */
  public synchronized void setRate(long bytesPerSecond) {
    refill();
    final long next = Math.max(UNLIMITED, bytesPerSecond);
    if (next != rate) {
      rate = next;
      tokens = Math.min(tokens, burst());
      notifyAll();
    }
  }

  /** The rate in bytes per second, {@link #UNLIMITED} when there is none. */
  public synchronized long rate() {
    return rate;
  }

  public synchronized boolean isLimited() {
    return rate > 0;
  }

  /** {@code wanted} cut to an eighth of a second's worth (at least 1 KiB) while limited. */
  public synchronized int chunkBytes(int wanted) {
    return rate > 0 ? (int) Math.min(wanted, Math.max(1024, burst())) : wanted;
  }

  /**
   * Takes {@code bytes}, first waiting until the bucket is not in debt; returns at once when
   * unlimited.
   *
   * @throws InterruptedException if interrupted while waiting (nothing is taken)
   */
  public synchronized void acquire(long bytes) throws InterruptedException {
    while (true) {
      refill();
      if (rate <= 0 || tokens >= 0) {
        if (rate > 0) {
          tokens -= bytes;
        }
        return;
      }
      final long waitNanos = (long) Math.ceil(-tokens * NANOS_PER_SECOND / rate);
      TimeUnit.NANOSECONDS.timedWait(this, Math.max(1, waitNanos));
    }
  }

  /**
   * Gives back bytes taken but not used; also charges extra bytes when negative, without waiting.
   */
  public synchronized void refund(long bytes) {
    if (rate > 0) {
      refill();
      tokens = Math.min(tokens + bytes, burst());
    }
  }

  private void refill() {
    final long now = nanoClock.getAsLong();
    if (rate > 0) {
      tokens = Math.min(burst(), tokens + (double) (now - refilledAt) * rate / NANOS_PER_SECOND);
    }
    refilledAt = now;
  }

  private long burst() {
    return Math.max(1, rate / BURST_DIVISOR);
  }
}
