package io.skiff.broker.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RequestDeadlinesTest {
  private final RequestDeadlines deadlines =
      new RequestDeadlines(r -> new Thread(r, "deadlines-test"));

  @AfterEach
  void close() {
    deadlines.close();
  }

  @Test
  void aFutureWithoutAnAnswerFailsWithATimeoutAfterItsDeadline() {
    final CompletableFuture<String> never = new CompletableFuture<>();
    final long start = System.nanoTime();
    deadlines.bound(never, 300);
    assertThatThrownBy(() -> never.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(TimeoutException.class);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
        .as("milliseconds until the timeout")
        .isGreaterThanOrEqualTo(300)
        .isLessThan(300 + 5_000);
  }

  @Test
  void answeredFuturesKeepTheirResultAndCancelTheirDeadlines() throws Exception {
    final List<CompletableFuture<Integer>> futures = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      futures.add(deadlines.bound(new CompletableFuture<>(), 60_000));
    }
    assertThat(deadlines.pending()).isEqualTo(1000);
    for (int i = 0; i < futures.size(); i++) {
      futures.get(i).complete(i);
    }
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (deadlines.pending() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(deadlines.pending()).as("deadlines left armed").isZero();
    for (int i = 0; i < futures.size(); i++) {
      assertThat(futures.get(i).get()).isEqualTo(i);
    }
  }

  @Test
  void aDoneFutureGetsNoDeadlineAndAClosedWheelBoundsNothing() {
    deadlines.bound(CompletableFuture.completedFuture("done"), 1);
    assertThat(deadlines.pending()).isZero();
    deadlines.close();
    final CompletableFuture<String> late = new CompletableFuture<>();
    assertThat(deadlines.bound(late, 1)).isSameAs(late);
    late.complete("answered");
    assertThat(late.join()).isEqualTo("answered");
  }
}
