package io.skiff.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AwaitTest {
  @Test
  void returnsOnceTheConditionHoldsCheckingItAgainUntilThen() throws InterruptedException {
    final AtomicInteger checks = new AtomicInteger();

    Await.atMost(Duration.ofSeconds(30))
        .pollingEvery(Duration.ofMillis(1))
        .until("the third check", () -> checks.incrementAndGet() == 3);

    assertThat(checks).hasValue(3);
  }

  @Test
  void failsNamingWhatItWaitedForOnceTheTimeoutHasPassed() {
    final long started = System.nanoTime();

    assertThatThrownBy(
            () ->
                Await.atMost(Duration.ofMillis(200))
                    .until("a condition that never holds", () -> false))
        .isInstanceOf(AssertionError.class)
        .hasMessage("timed out after 200 ms waiting for: a condition that never holds");

    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .isGreaterThanOrEqualTo(Duration.ofMillis(200));
  }
}
