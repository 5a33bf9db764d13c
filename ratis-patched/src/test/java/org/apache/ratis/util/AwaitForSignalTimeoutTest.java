package org.apache.ratis.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Patch 0025: on a virtual thread, {@link AwaitForSignal#await(long, TimeUnit)} waits without a
 * timed wait (its timeout is on {@link VirtualThreadTimer}'s wheel) and still returns false when
 * the time passes and true when signalled; on a platform thread it is a timed wait as before.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AwaitForSignalTimeoutTest {
  private final AwaitForSignal signal = new AwaitForSignal("test");

  @Test
  void aVirtualThreadTimesOutWithoutATimedWait() throws Exception {
    final CompletableFuture<Boolean> signalled = new CompletableFuture<>();
    final long start = System.nanoTime();
    final Thread waiter = Thread.ofVirtual().start(() -> await(1_000, signalled));

    assertThat(stateWhileWaiting(waiter)).isEqualTo(Thread.State.WAITING);
    assertThat(signalled.get(10, TimeUnit.SECONDS)).as("signalled").isFalse();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(1_000);
  }

  @Test
  void aVirtualThreadReturnsWhenSignalled() throws Exception {
    final CompletableFuture<Boolean> signalled = new CompletableFuture<>();
    final long start = System.nanoTime();
    final Thread waiter = Thread.ofVirtual().start(() -> await(60_000, signalled));

    assertThat(stateWhileWaiting(waiter)).isEqualTo(Thread.State.WAITING);
    signal.signal();
    assertThat(signalled.get(10, TimeUnit.SECONDS)).as("signalled").isTrue();
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(30);
  }

  @Test
  void aPlatformThreadWaitsTimed() throws Exception {
    final CompletableFuture<Boolean> signalled = new CompletableFuture<>();
    final Thread waiter = Thread.ofPlatform().start(() -> await(60_000, signalled));

    assertThat(stateWhileWaiting(waiter)).isEqualTo(Thread.State.TIMED_WAITING);
    signal.signal();
    assertThat(signalled.get(10, TimeUnit.SECONDS)).as("signalled").isTrue();
  }

  /** Patch 0028: a signal given before {@code awaitPending} ends it at once, and only once. */
  @Test
  void aSignalBeforeAwaitPendingIsNotLost() throws Exception {
    signal.signal();
    final long start = System.nanoTime();
    assertThat(signal.awaitPending(60_000, TimeUnit.MILLISECONDS)).as("signalled").isTrue();
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(30);

    // Taken: the next wait times out.
    assertThat(signal.awaitPending(200, TimeUnit.MILLISECONDS)).as("signalled again").isFalse();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(200);
  }

  @Test
  void awaitPendingReturnsWhenSignalledDuringTheWait() throws Exception {
    final CompletableFuture<Boolean> signalled = new CompletableFuture<>();
    final Thread waiter =
        Thread.ofVirtual()
            .start(
                () ->
                    complete(() -> signal.awaitPending(60_000, TimeUnit.MILLISECONDS), signalled));

    assertThat(stateWhileWaiting(waiter)).isEqualTo(Thread.State.WAITING);
    signal.signal();
    assertThat(signalled.get(10, TimeUnit.SECONDS)).as("signalled").isTrue();
  }

  /** A signal before a plain {@code await} still does not end it: its Condition semantics stay. */
  @Test
  void aSignalBeforeAwaitIsNotKeptForIt() throws Exception {
    signal.signal();
    assertThat(signal.await(200, TimeUnit.MILLISECONDS)).as("signalled").isFalse();
  }

  private void await(long ms, CompletableFuture<Boolean> signalled) {
    complete(() -> signal.await(ms, TimeUnit.MILLISECONDS), signalled);
  }

  /** Completes {@code signalled} with what the wait returned, or with what it threw. */
  private static void complete(Callable<Boolean> wait, CompletableFuture<Boolean> signalled) {
    try {
      signalled.complete(wait.call());
    } catch (Throwable t) {
      signalled.completeExceptionally(t);
    }
  }

  /** The waiter's state once it waits (it starts RUNNABLE). */
  private static Thread.State stateWhileWaiting(Thread waiter) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    Thread.State state = waiter.getState();
    while ((state == Thread.State.NEW || state == Thread.State.RUNNABLE)
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
      state = waiter.getState();
    }
    return state;
  }
}
