package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FetchBufferTest {
  private static final Duration NOW = Duration.ofMillis(10);

  private static ByteBuffer bytes(int n) {
    return ByteBuffer.allocate(n);
  }

  @Test
  void reservesBeforeFetchingAndWaitsAtTheCap() throws Exception {
    final FetchBuffer<String> buffer = new FetchBuffer<>(100, 10, 60);
    final FetchBuffer.Reservation<String> a = buffer.reserve("a", NOW);
    assertThat(a.bytes()).isEqualTo(60);
    assertThatThrownBy(() -> buffer.reserve("b", NOW))
        .isInstanceOf(TimeoutException.class)
        .hasMessageContaining("60 of 100 bytes held");
    assertThat(buffer.waits()).isEqualTo(1);

    buffer.add(a, bytes(20)); // the unused 40 bytes come back
    assertThat(buffer.usedBytes()).isEqualTo(20);
    final FetchBuffer.Reservation<String> b = buffer.reserve("b", NOW);
    assertThat(buffer.usedBytes()).isEqualTo(80);
    buffer.cancel(b);

    final FetchBuffer.Chunk<String> chunk = buffer.poll(NOW);
    assertThat(chunk.partition()).isEqualTo("a");
    assertThat(buffer.usedBytes()).as("counted until released").isEqualTo(20);
    buffer.release(chunk);
    assertThat(buffer.usedBytes()).isZero();
    assertThat(buffer.peakBytes()).isEqualTo(80);
    assertThat(buffer.poll(NOW)).isNull();
  }

  @Test
  void drainsPartitionsRoundRobin() throws Exception {
    final FetchBuffer<String> buffer = new FetchBuffer<>(1000, 10, 100);
    for (String p : List.of("a", "a", "a", "b", "c", "c")) {
      buffer.add(buffer.reserve(p, NOW), bytes(10));
    }
    final List<String> order = new ArrayList<>();
    FetchBuffer.Chunk<String> chunk;
    while ((chunk = buffer.poll(NOW)) != null) {
      order.add(chunk.partition());
      buffer.release(chunk);
    }
    assertThat(order).containsExactly("a", "b", "c", "a", "c", "a");
    assertThat(buffer.usedBytes()).isZero();
  }

  @Test
  void fetchSizeGrowsWithABacklogAndShrinksToTheAverage() throws Exception {
    final FetchBuffer<String> buffer = new FetchBuffer<>(1 << 20, 1024, 64 * 1024);
    assertThat(buffer.fetchSize("p")).as("starts at the maximum").isEqualTo(64 * 1024);
    for (int i = 0; i < 10; i++) {
      buffer.add(buffer.reserve("p", NOW), bytes(100)); // near-live: small responses
    }
    assertThat(buffer.fetchSize("p")).isEqualTo(1024);
    buffer.add(buffer.reserve("p", NOW), bytes(1024)); // a full response: a backlog
    assertThat(buffer.fetchSize("p")).isEqualTo(2048);
    buffer.add(buffer.reserve("p", NOW), bytes(2048));
    buffer.add(buffer.reserve("p", NOW), bytes(4096));
    assertThat(buffer.fetchSize("p")).isEqualTo(8192);
    assertThat(buffer.fetchSize("other")).isEqualTo(64 * 1024);
  }

  @Test
  void countsABatchLargerThanItsReservation() throws Exception {
    final FetchBuffer<String> buffer = new FetchBuffer<>(1000, 10, 100);
    final FetchBuffer.Reservation<String> r = buffer.reserve("p", NOW);
    buffer.add(r, bytes(150)); // one batch above the fetch size comes whole
    assertThat(buffer.usedBytes()).isEqualTo(150);
    assertThat(buffer.oversized()).isEqualTo(1);
    buffer.release(buffer.poll(NOW));
    assertThat(buffer.usedBytes()).isZero();
  }

  @Test
  void forgettingAPartitionFreesWhatItQueued() throws Exception {
    final FetchBuffer<String> buffer = new FetchBuffer<>(1000, 10, 100);
    buffer.add(buffer.reserve("gone", NOW), bytes(50));
    buffer.add(buffer.reserve("kept", NOW), bytes(30));
    buffer.forget("gone");
    assertThat(buffer.usedBytes()).isEqualTo(30);
    assertThat(buffer.poll(NOW).partition()).isEqualTo("kept");
    assertThat(buffer.poll(NOW)).isNull();
  }

  @Test
  void keepsItsAccountsThroughAMillionConcurrentFetches() throws Exception {
    final int cap = 256 * 1024;
    final FetchBuffer<Integer> buffer = new FetchBuffer<>(cap, 512, 64 * 1024);
    final int fetchers = 4;
    final int perFetcher = 250_000;
    final AtomicLong consumed = new AtomicLong();
    final AtomicLong produced = new AtomicLong();
    final List<Thread> threads = new ArrayList<>();
    for (int f = 0; f < fetchers; f++) {
      final int partitionBase = f * 8;
      threads.add(
          new Thread(
              () -> {
                final ThreadLocalRandom random = ThreadLocalRandom.current();
                try {
                  for (int i = 0; i < perFetcher; i++) {
                    final int partition = partitionBase + random.nextInt(8);
                    final FetchBuffer.Reservation<Integer> r =
                        buffer.reserve(partition, Duration.ofSeconds(30));
                    if (random.nextInt(100) == 0) {
                      buffer.cancel(r); // a failed fetch
                      continue;
                    }
                    final int n = 1 + random.nextInt(r.bytes());
                    produced.addAndGet(n);
                    buffer.add(r, ByteBuffer.allocate(n));
                  }
                } catch (Exception e) {
                  throw new AssertionError(e);
                }
              }));
    }
    final Thread consumer =
        new Thread(
            () -> {
              try {
                while (!Thread.currentThread().isInterrupted()) {
                  final FetchBuffer.Chunk<Integer> chunk = buffer.poll(Duration.ofMillis(100));
                  if (chunk != null) {
                    consumed.addAndGet(chunk.bytes());
                    buffer.release(chunk);
                  }
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    consumer.start();
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    while (consumed.get() < produced.get()) {
      Thread.sleep(10);
    }
    consumer.interrupt();
    consumer.join();

    assertThat(consumed.get()).isEqualTo(produced.get());
    assertThat(buffer.usedBytes()).isZero();
    assertThat(buffer.peakBytes()).isLessThanOrEqualTo(cap);
  }
}
