package org.apache.ratis.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Patch 0024: an unbounded cached executor of virtual threads runs each task on a virtual thread
 * that ends with its task, where a cached pool's idle worker waited 60 s for the next one with a
 * timed wait (one timer armed and cancelled per task on the carrier pool's scheduler).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VirtualCachedExecutorTest {
  @Test
  void tasksRunOnVirtualThreadsThatEndWithThem() throws Exception {
    final ExecutorService executor = ConcurrentUtils.newThreadPoolWithMax(true, 0, "test", true);
    final Thread first = threadOf(executor);
    assertThat(first.isVirtual()).isTrue();
    assertThat(first.getName()).startsWith("test-");
    first.join(TimeUnit.SECONDS.toMillis(5));
    assertThat(first.isAlive()).as("the thread of a finished task").isFalse();
    assertThat(threadOf(executor)).isNotSameAs(first);
    ConcurrentUtils.shutdownAndWait(executor);
    assertThat(executor.isTerminated()).isTrue();
  }

  @Test
  void shutdownWaitsForRunningTasks() throws Exception {
    final ExecutorService executor = ConcurrentUtils.newThreadPoolWithMax(true, 0, "test", true);
    final CountDownLatch release = new CountDownLatch(1);
    executor.execute(
        () -> {
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    executor.shutdown();
    assertThat(executor.awaitTermination(100, TimeUnit.MILLISECONDS)).isFalse();
    release.countDown();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void platformPoolsAreUnchanged() throws Exception {
    final ExecutorService executor = ConcurrentUtils.newThreadPoolWithMax(true, 0, "test", false);
    final Thread worker = threadOf(executor);
    assertThat(worker.isVirtual()).isFalse();
    assertThat(worker.getName()).isEqualTo("test-thread1");
    assertThat(worker.isAlive()).as("a cached pool keeps its idle worker").isTrue();
    ConcurrentUtils.shutdownAndWait(executor);
  }

  private static Thread threadOf(ExecutorService executor) throws Exception {
    return CompletableFuture.supplyAsync(Thread::currentThread, executor).get(10, TimeUnit.SECONDS);
  }
}
