package io.skiff.raft.catchup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ByteRateLimiterTest {
  private static final long MIB = 1 << 20;

  @Test
  void anUnlimitedLimiterNeverWaits() throws InterruptedException {
    final ByteRateLimiter limiter = new ByteRateLimiter();
    final long start = System.nanoTime();
    for (int i = 0; i < 1000; i++) {
      limiter.acquire(MIB);
    }
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(1));
    assertThat(limiter.isLimited()).isFalse();
    assertThat(limiter.chunkBytes(1 << 20)).isEqualTo(1 << 20);
  }

  @Test
  void boundsBytesOfManyThreadsToTheRateOverEveryWindow() throws Exception {
    final long rate = 2 * MIB;
    final ByteRateLimiter limiter = new ByteRateLimiter();
    limiter.setRate(rate);
    final int chunk = limiter.chunkBytes(1 << 20);
    assertThat(chunk).isEqualTo((int) (rate / 8));
    final AtomicLong passed = new AtomicLong();
    final long start = System.nanoTime();
    final long end = start + TimeUnit.SECONDS.toNanos(4);
    final List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      while (System.nanoTime() < end) {
                        limiter.acquire(chunk);
                        passed.addAndGet(chunk);
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
    }
    final List<long[]> samples = new ArrayList<>();
    while (System.nanoTime() < end) {
      samples.add(new long[] {System.nanoTime(), passed.get()});
      Thread.sleep(50);
    }
    for (Thread t : threads) {
      t.join();
    }
    final double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(passed.get() / seconds).isBetween(rate * 0.8, rate * 1.3);
    for (long[] from : samples) {
      for (long[] to : samples) {
        final long window = to[0] - from[0];
        if (window >= TimeUnit.SECONDS.toNanos(2)) {
          assertThat((to[1] - from[1]) * 1e9 / window)
              .as("bytes per second over a 2 s window")
              .isLessThanOrEqualTo(rate * 1.2);
        }
      }
    }
  }

  @Test
  void liftingTheRateWakesAWaiter() throws Exception {
    final ByteRateLimiter limiter = new ByteRateLimiter();
    limiter.setRate(1024);
    limiter.acquire(1024 * 600); // ten minutes in debt
    final CountDownLatch through = new CountDownLatch(1);
    final Thread waiter = acquireInBackground(limiter, 1024, through);
    assertThat(through.await(300, TimeUnit.MILLISECONDS)).as("waits while in debt").isFalse();
    limiter.setRate(ByteRateLimiter.UNLIMITED);
    assertThat(through.await(10, TimeUnit.SECONDS)).as("woken by the lift").isTrue();
    waiter.join();
  }

  @Test
  void refundsReturnUnusedBytesButNoMoreThanTheBurst() throws InterruptedException {
    final AtomicLong clock = new AtomicLong();
    final ByteRateLimiter limiter = new ByteRateLimiter(clock::get);
    limiter.setRate(8 * 1024);
    limiter.acquire(4096); // tokens 0 -> -4096
    limiter.refund(4096); // back to 0
    limiter.refund(1 << 20); // capped at the burst, 1024
    limiter.acquire(2048); // 1024 -> -1024: passes, bucket not in debt before
    final CountDownLatch through = new CountDownLatch(1);
    final Thread waiter = acquireInBackground(limiter, 1, through);
    assertThat(through.await(300, TimeUnit.MILLISECONDS)).as("in debt, clock stopped").isFalse();
    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(125)); // refills 1024
    assertThat(through.await(10, TimeUnit.SECONDS)).isTrue();
    waiter.join();
  }

  /** Starts a thread that acquires {@code bytes} from {@code limiter}, then counts down. */
  private static Thread acquireInBackground(
      ByteRateLimiter limiter, int bytes, CountDownLatch through) {
    return Thread.ofPlatform()
        .start(
            () -> {
              try {
                limiter.acquire(bytes);
                through.countDown();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }
}
