package io.skiff.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TierAdviceTest {
  private static TierAdvice.Reading reading(String name, long used, long budget, String remedy) {
    return new TierAdvice.Reading(
        MemoryCategory.bytes(name, () -> used, () -> budget, remedy), used, budget);
  }

  @Test
  void namesTheNextTierAndTheRemedyForACategoryNearItsBudget() {
    final List<String> advice =
        TierAdvice.advise(
            Tier.SMALL,
            List.of(
                reading("index mmap", 87, 100, "lower retention"),
                reading("produce memory", 84, 100, "slow the producers"),
                reading("mapped", 5_000, -1, "none"),
                new TierAdvice.Reading(
                    MemoryCategory.capped("index mlock", () -> 64, () -> 64), 64, 64)),
            MemoryPressure.Level.NORMAL,
            0.4,
            List.of());
    assertThat(advice)
        .containsExactly(
            "index mmap budget 87 % used: raise to the medium tier or lower retention");
  }

  @Test
  void suggestsMoreBrokersOnTheLargestTier() {
    assertThat(
            TierAdvice.advise(
                Tier.LARGE,
                List.of(reading("partitions", 29_000, 30_000, "move partitions")),
                MemoryPressure.Level.NORMAL,
                0.1,
                List.of()))
        .containsExactly("partitions budget 96 % used: add brokers or move partitions");
  }

  @Test
  void explainsPressureAndLeaks() {
    final List<String> advice =
        TierAdvice.advise(
            Tier.DEV,
            List.of(),
            MemoryPressure.Level.HIGH,
            0.9,
            List.of(
                new MemoryLeakDetector.LeakWarning(
                    MemoryLeakDetector.LeakKind.HEAP, 200L << 20, 2L << 20)));
    assertThat(advice).hasSize(2);
    assertThat(advice.get(0))
        .contains("memory pressure HIGH (heap 90 % full after GC)")
        .contains("raise to the small tier");
    assertThat(advice.get(1)).startsWith("HEAP grows 200 MiB/h").contains("heap dump");
  }
}
