package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestartBackoffTest {
  @Test
  void aLogThatFailsRightAfterEachRestartWaitsTwiceAsLongEachTimeUpToAMinute() {
    final RestartBackoff backoff = new RestartBackoff();
    final List<Long> delays = new ArrayList<>();
    long now = 0;
    for (int i = 0; i < 9; i++) {
      final long delay = backoff.failed(now);
      delays.add(delay);
      now += delay;
      backoff.restarting(now);
      now += 50; // fails again 50 ms after its restart
    }
    assertThat(delays)
        .containsExactly(
            1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L, 60_000L);
  }

  @Test
  void theFirstFailureWaitsOneSecondAndIsNoBackoff() {
    final RestartBackoff backoff = new RestartBackoff();
    assertThat(backoff.healthyAt(0)).isTrue();
    assertThat(backoff.failed(123_456)).isEqualTo(RestartBackoff.INITIAL_MS);
    assertThat(backoff.backingOff()).isFalse();
  }

  @Test
  void aGroupThatStayedUpFiveMinutesAfterItsLastRestartStartsOver() {
    final RestartBackoff backoff = new RestartBackoff();
    long now = 0;
    for (int i = 0; i < 4; i++) {
      now += backoff.failed(now);
      backoff.restarting(now);
    }
    assertThat(backoff.backingOff()).isTrue();

    assertThat(backoff.healthyAt(now + RestartBackoff.HEALTHY_MS - 1)).isFalse();
    assertThat(backoff.failed(now + RestartBackoff.HEALTHY_MS - 1)).isEqualTo(16_000L);

    now += RestartBackoff.HEALTHY_MS - 1 + 16_000;
    backoff.restarting(now);
    assertThat(backoff.healthyAt(now + RestartBackoff.HEALTHY_MS)).isTrue();
    assertThat(backoff.failed(now + RestartBackoff.HEALTHY_MS)).isEqualTo(1_000L);
    assertThat(backoff.backingOff()).isFalse();
  }

  @Test
  void aRestartThatItselfFailsCountsAsAFailureAgain() {
    final RestartBackoff backoff = new RestartBackoff();
    final long first = backoff.failed(0);
    backoff.restarting(first);
    assertThat(backoff.failed(first)).as("the restart attempt threw").isEqualTo(2_000L);
    assertThat(backoff.backingOff()).isTrue();
  }
}
