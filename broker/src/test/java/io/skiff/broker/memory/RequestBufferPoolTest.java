package io.skiff.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.skiff.broker.memory.RequestBufferPool.SizeClass;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RequestBufferPoolTest {
  @Test
  void sizeClassesAreFourKibSixtyFourKibAndPowersOfTwoFromOneMib() {
    assertThat(RequestBufferPool.capacityFor(0)).isEqualTo(4096);
    assertThat(RequestBufferPool.capacityFor(4096)).isEqualTo(4096);
    assertThat(RequestBufferPool.capacityFor(4097)).isEqualTo(65536);
    assertThat(RequestBufferPool.capacityFor(65536)).isEqualTo(65536);
    assertThat(RequestBufferPool.capacityFor(65537)).isEqualTo(1 << 20);
    assertThat(RequestBufferPool.capacityFor(1 << 20)).isEqualTo(1 << 20);
    assertThat(RequestBufferPool.capacityFor((1 << 20) + 1)).isEqualTo(2 << 20);
    assertThat(RequestBufferPool.capacityFor(5 << 20)).isEqualTo(8 << 20);
  }

  @Test
  void reusesReleasedBuffersClearedAndCountsMisses() {
    final RequestBufferPool pool = new RequestBufferPool(16, 16);
    final ByteBuffer first = pool.acquire(100);
    first.put((byte) 1);
    pool.release(first);
    final ByteBuffer second = pool.acquire(200);
    assertThat(second).isSameAs(first);
    assertThat(second.position()).isZero();
    assertThat(second.limit()).isEqualTo(4096);
    assertThat(pool.allocations(SizeClass.SMALL)).isEqualTo(2);
    assertThat(pool.misses(SizeClass.SMALL)).isEqualTo(1);
    assertThat(pool.inUse(SizeClass.SMALL)).isEqualTo(1);
    assertThat(pool.inUseBytes(SizeClass.SMALL)).isEqualTo(4096);
    pool.release(second);
    assertThat(pool.inUse(SizeClass.SMALL)).isZero();
    assertThat(pool.available(SizeClass.SMALL)).isEqualTo(1);
  }

  @Test
  void largeClassKeepsAtMostSixtyFourBuffersAndDropsTheRest() {
    final RequestBufferPool pool = new RequestBufferPool(0, 0, Long.MAX_VALUE);
    final List<ByteBuffer> held = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      held.add(pool.acquire(i % 2 == 0 ? 1 << 20 : 3 << 20));
    }
    assertThat(pool.inUseBytes(SizeClass.LARGE)).isEqualTo(50L * (1 << 20) + 50L * (4 << 20));
    held.forEach(pool::release);
    assertThat(pool.available(SizeClass.LARGE)).isEqualTo(RequestBufferPool.LARGE_RETAINED);
    assertThat(pool.dropped(SizeClass.LARGE)).isEqualTo(100 - RequestBufferPool.LARGE_RETAINED);
    assertThat(pool.inUse(SizeClass.LARGE)).isZero();
  }

  @Test
  void largeClassKeepsNoMoreThanItsByteBound() {
    final RequestBufferPool pool = new RequestBufferPool(0, 0, 8 << 20);
    final List<ByteBuffer> held = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      held.add(pool.acquire(3 << 20)); // 4 MiB class
    }
    held.forEach(pool::release);
    assertThat(pool.available(SizeClass.LARGE)).isEqualTo(2);
    assertThat(pool.largeAvailableBytes()).isEqualTo(8 << 20);
    assertThat(pool.dropped(SizeClass.LARGE)).isEqualTo(1);
    pool.acquire(4 << 20);
    assertThat(pool.largeAvailableBytes()).isEqualTo(4 << 20);
  }

  @Test
  void largeBufferIsReusedOnlyForItsOwnPowerOfTwo() {
    final RequestBufferPool pool = new RequestBufferPool(0, 0);
    final ByteBuffer big = pool.acquire(60 << 20);
    pool.release(big);
    assertThat(pool.acquire(1 << 20).capacity()).isEqualTo(1 << 20);
    assertThat(pool.acquire(40 << 20)).isSameAs(big);
  }

  @Test
  void smallAndMediumRetentionIsBounded() {
    final RequestBufferPool pool = new RequestBufferPool(2, 1);
    final List<ByteBuffer> held = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      held.add(pool.acquire(10));
      held.add(pool.acquire(10_000));
    }
    held.forEach(pool::release);
    assertThat(pool.available(SizeClass.SMALL)).isEqualTo(2);
    assertThat(pool.available(SizeClass.MEDIUM)).isEqualTo(1);
    assertThat(pool.dropped(SizeClass.SMALL)).isEqualTo(3);
    assertThat(pool.dropped(SizeClass.MEDIUM)).isEqualTo(4);
  }

  @Test
  void refusesBuffersItDidNotHandOut() {
    final RequestBufferPool pool = new RequestBufferPool(2, 2);
    assertThatThrownBy(() -> pool.release(ByteBuffer.allocate(5000)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> pool.release(ByteBuffer.allocateDirect(4096)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void millionAcquiresAndReleasesOnFourThreadsLeaveNothingInUse() throws Exception {
    final RequestBufferPool pool = new RequestBufferPool(64, 16);
    final int threads = 4;
    final int perThread = 250_000;
    final ExecutorService executor = Executors.newFixedThreadPool(threads);
    try {
      final List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        final Random random = new Random(t);
        done.add(
            executor.submit(
                () -> {
                  final ByteBuffer[] held = new ByteBuffer[4];
                  for (int i = 0; i < perThread; i++) {
                    final int slot = i & 3;
                    if (held[slot] != null) {
                      pool.release(held[slot]);
                    }
                    final int size =
                        random.nextInt(100) == 0
                            ? (1 << 20) + random.nextInt(1 << 20)
                            : random.nextInt(70_000);
                    held[slot] = pool.acquire(size);
                    held[slot].put(0, (byte) i);
                  }
                  for (ByteBuffer b : held) {
                    pool.release(b);
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      executor.shutdownNow();
    }
    long allocations = 0;
    long misses = 0;
    for (SizeClass c : SizeClass.values()) {
      assertThat(pool.inUse(c)).as("%s in use", c).isZero();
      assertThat(pool.inUseBytes(c)).as("%s bytes in use", c).isZero();
      allocations += pool.allocations(c);
      misses += pool.misses(c);
    }
    assertThat(allocations).isEqualTo((long) threads * perThread);
    // At most 4 buffers per thread are out at once, so almost every acquisition is a reuse.
    assertThat(misses).isLessThan(1_000);
    assertThat(pool.available(SizeClass.SMALL)).isLessThanOrEqualTo(64);
    assertThat(pool.available(SizeClass.MEDIUM)).isLessThanOrEqualTo(16);
    assertThat(pool.available(SizeClass.LARGE)).isLessThanOrEqualTo(64);
    assertThat(pool.largeAvailableBytes())
        .isLessThanOrEqualTo(RequestBufferPool.DEFAULT_LARGE_RETAINED_BYTES);
  }

  @Test
  void exportsGaugesPerClass() {
    final RequestBufferPool pool = new RequestBufferPool(2, 2);
    final MetricRegistry registry = new MetricRegistry();
    pool.registerMetrics(registry);
    final ByteBuffer b = pool.acquire(10_000);
    assertThat(registry.getGauges().get("memory.request_pool.in_use[class=medium]").getValue())
        .isEqualTo(1L);
    assertThat(registry.getGauges().get("memory.request_pool.misses[class=medium]").getValue())
        .isEqualTo(1L);
    pool.release(b);
    assertThat(registry.getGauges().get("memory.request_pool.available[class=medium]").getValue())
        .isEqualTo(1);
    assertThat(registry.getGauges()).containsKey("memory.request_pool.allocations[class=large]");
  }
}
