package io.skiff.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits in a test until a condition that other threads make true holds (a broker applied the
 * metadata, a leader was elected), checking it on the calling thread every {@code poll} and failing
 * the test once {@code timeout} has passed. It sleeps on the caller's thread and never on the
 * common pool, whose one worker on two cores Ratis also needs. Immutable, so thread-safe.
 *
 * <pre>{@code
 * private static final Await AWAIT = Await.atMost(Duration.ofSeconds(120));
 * AWAIT.until("broker 2 leads nothing", () -> leaderships(cluster, 2) == 0);
 * }</pre>
 */
public record Await(Duration timeout, Duration poll) {
  private static final Duration DEFAULT_POLL = Duration.ofMillis(100);

  /** Waits up to {@code timeout}, checking every 100 ms. */
  public static Await atMost(Duration timeout) {
    return new Await(timeout, DEFAULT_POLL);
  }

  /** The same wait, checking every {@code interval} instead. */
  public Await pollingEvery(Duration interval) {
    return new Await(timeout, interval);
  }

  /**
   * Returns once {@code condition} holds; throws an {@link AssertionError} naming {@code what} when
   * it still does not after the timeout.
   */
  public void until(String what, BooleanSupplier condition) throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeoutText() + " waiting for: " + what);
      }
      Thread.sleep(poll.toMillis());
    }
  }

  private String timeoutText() {
    return timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms";
  }
}
