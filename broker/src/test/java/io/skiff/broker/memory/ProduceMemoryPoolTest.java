package io.skiff.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ProduceMemoryPoolTest {
  private static final int BATCH = 16 << 10;

  @Test
  void reservesUntilExhaustedThenQueuesWaitersInOrder() {
    final ProduceMemoryPool pool = new ProduceMemoryPool(100_000, BATCH);
    assertThat(pool.reserveOrWait(60_000, () -> {})).isNull();
    final List<String> granted = new ArrayList<>();
    final ProduceMemoryPool.Waiter big = pool.reserveOrWait(50_000, () -> granted.add("big"));
    // Fits, but must not overtake the waiting request.
    final ProduceMemoryPool.Waiter small = pool.reserveOrWait(1_000, () -> granted.add("small"));
    assertThat(big).isNotNull();
    assertThat(small).isNotNull();
    assertThat(pool.waiting()).isEqualTo(2);
    assertThat(pool.usedBytes()).isEqualTo(60_000);

    pool.release(60_000);
    assertThat(granted).containsExactly("big", "small");
    assertThat(pool.usedBytes()).isEqualTo(51_000);
    assertThat(pool.waiting()).isZero();
    assertThat(pool.cancel(big)).isFalse(); // already granted: the caller owns the bytes
    pool.release(50_000);
    pool.release(1_000);
    assertThat(pool.availableBytes()).isEqualTo(100_000);
    assertThat(pool.waits()).isEqualTo(2);
  }

  @Test
  void cancelledWaiterHoldsNothingAndLetsTheNextOneIn() {
    final ProduceMemoryPool pool = new ProduceMemoryPool(100_000, BATCH);
    assertThat(pool.reserveOrWait(90_000, () -> {})).isNull();
    final AtomicInteger grants = new AtomicInteger();
    final ProduceMemoryPool.Waiter blocked = pool.reserveOrWait(50_000, grants::incrementAndGet);
    final ProduceMemoryPool.Waiter next = pool.reserveOrWait(5_000, grants::incrementAndGet);
    assertThat(pool.cancel(blocked)).isTrue();
    assertThat(grants).hasValue(1); // the small one fits once the big one stops blocking it
    assertThat(pool.cancel(next)).isFalse();
    pool.release(95_000);
    assertThat(pool.usedBytes()).isZero();
  }

  @Test
  void requestLargerThanThePoolTakesTheWholePool() {
    final ProduceMemoryPool pool = new ProduceMemoryPool(64 << 10, BATCH);
    assertThat(pool.reservationFor(1 << 20)).isEqualTo(64 << 10);
    assertThat(pool.reserveOrWait(1 << 20, () -> {})).isNull();
    assertThat(pool.availableBytes()).isZero();
    pool.release(pool.reservationFor(1 << 20));
    assertThat(pool.availableBytes()).isEqualTo(64 << 10);
  }

  @Test
  void releasingMoreThanReservedIsABug() {
    final ProduceMemoryPool pool = new ProduceMemoryPool(64 << 10, BATCH);
    assertThatThrownBy(() -> pool.release(1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void batchBuffersComeBackThroughTheFreeList() {
    final ProduceMemoryPool pool = new ProduceMemoryPool(4L * BATCH, BATCH);
    final ByteBuffer a = pool.tryAllocate(BATCH);
    a.put((byte) 7);
    pool.deallocate(a);
    assertThat(pool.availableBytes()).isEqualTo(4L * BATCH);
    final ByteBuffer again = pool.tryAllocate(BATCH);
    assertThat(again).isSameAs(a);
    assertThat(again.position()).isZero();
    pool.deallocate(again);
    // A reservation that needs the free buffer's room drops it.
    assertThat(pool.reserveOrWait(4L * BATCH, () -> {})).isNull();
    assertThat(pool.tryAllocate(BATCH)).isNull();
    pool.release(4L * BATCH);
    final ByteBuffer odd = pool.tryAllocate(1000);
    assertThat(pool.usedBytes()).isEqualTo(1000);
    pool.deallocate(odd);
    assertThat(pool.usedBytes()).isZero();
  }

  @Test
  void millionReservationsOnFourThreadsBalanceToZero() throws Exception {
    final ProduceMemoryPool pool = new ProduceMemoryPool(1 << 20, BATCH);
    final int threads = 4;
    final int perThread = 250_000;
    final ExecutorService executor = Executors.newFixedThreadPool(threads);
    final AtomicInteger granted = new AtomicInteger();
    final AtomicInteger immediate = new AtomicInteger();
    try {
      final List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        final Random random = new Random(t);
        done.add(executor.submit(() -> churn(pool, random, perThread, granted, immediate)));
      }
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      executor.shutdownNow();
    }
    assertThat(granted.get() + immediate.get()).isEqualTo(threads * perThread);
    assertThat(pool.usedBytes()).isZero();
    assertThat(pool.availableBytes()).isEqualTo(1 << 20);
    assertThat(pool.waiting()).isZero();
  }

  /** Reserves (waiting when needed) and releases, keeping up to 8 reservations per thread. */
  private static void churn(
      ProduceMemoryPool pool,
      Random random,
      int operations,
      AtomicInteger granted,
      AtomicInteger immediate) {
    final ConcurrentLinkedQueue<Long> held = new ConcurrentLinkedQueue<>();
    for (int i = 0; i < operations; i++) {
      if (held.size() >= 8) {
        pool.release(held.poll());
      }
      final long size = pool.reservationFor(1 + random.nextInt(200_000));
      final CountDownLatch latch = new CountDownLatch(1);
      final ProduceMemoryPool.Waiter w = pool.reserveOrWait(size, latch::countDown);
      if (w == null) {
        immediate.incrementAndGet();
      } else {
        // Waiting would deadlock on our own holdings: give them back first.
        while (!held.isEmpty()) {
          pool.release(held.poll());
        }
        try {
          if (!latch.await(60, TimeUnit.SECONDS)) {
            throw new AssertionError("reservation of " + size + " bytes never granted");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        granted.incrementAndGet();
      }
      held.add(size);
    }
    held.forEach(pool::release);
  }
}
