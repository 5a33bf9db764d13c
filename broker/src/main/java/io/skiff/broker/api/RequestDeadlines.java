package io.skiff.broker.api;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Bounds how long a request waits for a future, on one hashed timing wheel per broker (Netty's
 * {@link HashedWheelTimer}; Kafka bounds its delayed produce and fetch operations with a timing
 * wheel too). Arming and cancelling a deadline puts it on a queue that the wheel's thread drains at
 * its next tick, and wakes no thread. {@link CompletableFuture#orTimeout} instead schedules on the
 * common pool's delay scheduler, which wakes that scheduler's thread on every arm and every cancel:
 * with one deadline per partition of every produce request, under load the busiest wake-ups of a
 * broker (docs/benchmarks.md, round I).
 *
 * <p>Deadlines fire up to one tick ({@value #TICK_MS} ms) late. Thread-safe.
 */
public final class RequestDeadlines implements AutoCloseable {
  static final long TICK_MS = 100;

  private final HashedWheelTimer wheel;

  public RequestDeadlines(ThreadFactory threads) {
    this.wheel = new HashedWheelTimer(threads, TICK_MS, TimeUnit.MILLISECONDS, 512);
  }

  /**
   * Fails {@code future} with a {@link TimeoutException} unless it completes within {@code
   * timeoutMs} (at least 1 ms), as {@code orTimeout} does.
   *
   * @return {@code future}
   */
  public <T> CompletableFuture<T> bound(CompletableFuture<T> future, long timeoutMs) {
    if (future.isDone()) {
      return future;
    }
    final Timeout deadline;
    try {
      deadline =
          wheel.newTimeout(
              t ->
                  future.completeExceptionally(
                      new TimeoutException("no answer within " + timeoutMs + " ms")),
              Math.max(timeoutMs, 1),
              TimeUnit.MILLISECONDS);
    } catch (IllegalStateException stopped) {
      return future; // the broker is closing; its network closes the connection anyway
    }
    future.whenComplete((result, error) -> deadline.cancel());
    return future;
  }

  /**
   * Deadlines armed and neither fired nor cancelled yet (cancelled ones leave at the next tick).
   */
  long pending() {
    return wheel.pendingTimeouts();
  }

  @Override
  public void close() {
    wheel.stop();
  }
}
