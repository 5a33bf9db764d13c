package io.skiff.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.skiff.broker.memory.MemoryLeakDetector.LeakKind;
import io.skiff.broker.memory.MemoryLeakDetector.LeakWarning;
import io.skiff.broker.memory.MemoryLeakDetector.MemorySnapshot;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MemoryLeakDetectorTest {
  private static final long MIB = 1L << 20;
  private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);
  private final MemoryLeakDetector detector =
      new MemoryLeakDetector(TimeUnit.HOURS.toNanos(1), 64 * MIB, 360);

  private List<LeakWarning> feed(
      int minutes, long heapPerMinute, long directPerMinute, int partitionsFrom, int partitionsTo) {
    List<LeakWarning> last = List.of();
    for (int m = 0; m <= minutes; m++) {
      final int partitions = partitionsFrom + (partitionsTo - partitionsFrom) * m / minutes;
      last =
          detector.record(
              new MemorySnapshot(
                  m * MINUTE,
                  500 * MIB + m * heapPerMinute,
                  100 * MIB + m * directPerMinute,
                  0,
                  10,
                  partitions,
                  5));
    }
    return last;
  }

  @Test
  void saysNothingBeforeAnHourOfSnapshots() {
    assertThat(feed(59, 10 * MIB, 10 * MIB, 100, 100)).isEmpty();
  }

  @Test
  void warnsOfHeapGrowingFasterThanTheThreshold() {
    final List<LeakWarning> warnings = feed(90, 2 * MIB, 0, 100, 100);
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0).kind()).isEqualTo(LeakKind.HEAP);
    assertThat(warnings.get(0).bytesPerHour()).isEqualTo(120 * MIB);
    assertThat(detector.warnings()).isEqualTo(warnings);
  }

  @Test
  void heapGrowthThatMorePartitionsExplainIsNoLeak() {
    // 120 MiB/h while partitions triple: 40 MiB/h normalised, under the 64 MiB/h threshold.
    assertThat(feed(90, 2 * MIB, 0, 100, 300)).isEmpty();
  }

  @Test
  void warnsOfDirectMemoryGrowth() {
    final List<LeakWarning> warnings = feed(60, 0, 2 * MIB, 100, 100);
    assertThat(warnings).extracting(LeakWarning::kind).containsExactly(LeakKind.DIRECT);
  }

  @Test
  void steadyMemoryStaysQuietAndTheGaugesShowTheRates() {
    final MetricRegistry registry = new MetricRegistry();
    detector.registerMetrics(registry);
    assertThat(feed(120, 0, 0, 100, 100)).isEmpty();
    assertThat(registry.getGauges().get("memory.leak.heap.bytes_per_hour").getValue())
        .isEqualTo(0L);
    assertThat(registry.getCounters().get("memory.leak.warnings").getCount()).isZero();
  }
}
