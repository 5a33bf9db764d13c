package io.skiff.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.skiff.broker.memory.MemoryPressure.Level;
import io.skiff.broker.memory.MemoryUsageSource.MemoryReading;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.Test;

class MemoryPressureTest {
  private final AtomicReference<MemoryReading> reading =
      new AtomicReference<>(new MemoryReading(0, 1000, 0, 1000));
  private final MemoryPressure pressure = new MemoryPressure(reading::get);

  private Level at(long heapUsed, long directUsed) {
    reading.set(new MemoryReading(heapUsed, 1000, directUsed, 1000));
    return pressure.refresh();
  }

  @Test
  void levelsStartAtSeventyEightyFiveAndNinetyFivePercent() {
    assertThat(at(699, 0)).isEqualTo(Level.NORMAL);
    assertThat(at(700, 0)).isEqualTo(Level.WARNING);
    assertThat(at(849, 0)).isEqualTo(Level.WARNING);
    assertThat(at(850, 0)).isEqualTo(Level.HIGH);
    assertThat(at(950, 0)).isEqualTo(Level.CRITICAL);
    assertThat(at(100, 0)).isEqualTo(Level.NORMAL);
  }

  @Test
  void directMemoryRaisesTheLevelToo() {
    assertThat(at(100, 960)).isEqualTo(Level.CRITICAL);
    assertThat(at(900, 100)).isEqualTo(Level.HIGH);
  }

  @Test
  void produceIsThrottledThenRejected() {
    at(0, 0);
    assertThat(pressure.actionFor(ApiKeys.PRODUCE)).isEqualTo(MemoryPressure.Action.ACCEPT);
    at(750, 0);
    assertThat(pressure.actionFor(ApiKeys.PRODUCE).throttleMs()).isEqualTo(10);
    at(900, 0);
    assertThat(pressure.actionFor(ApiKeys.PRODUCE).throttleMs()).isEqualTo(100);
    at(990, 0);
    assertThat(pressure.actionFor(ApiKeys.PRODUCE).reject()).isTrue();
    assertThat(pressure.rejectedRequests()).isEqualTo(1);
    assertThat(pressure.throttledRequests()).isEqualTo(2);
  }

  @Test
  void fetchIsHalvedFromHighAndOthersThrottledOnlyWhenCritical() {
    at(750, 0);
    assertThat(pressure.actionFor(ApiKeys.FETCH)).isEqualTo(MemoryPressure.Action.ACCEPT);
    assertThat(pressure.actionFor(ApiKeys.METADATA)).isEqualTo(MemoryPressure.Action.ACCEPT);
    at(900, 0);
    assertThat(pressure.actionFor(ApiKeys.FETCH).fetchSizeFactor()).isEqualTo(0.5);
    assertThat(pressure.actionFor(ApiKeys.METADATA)).isEqualTo(MemoryPressure.Action.ACCEPT);
    at(990, 0);
    assertThat(pressure.actionFor(ApiKeys.FETCH).fetchSizeFactor()).isEqualTo(0.5);
    assertThat(pressure.actionFor(ApiKeys.METADATA).throttleMs()).isEqualTo(500);
    assertThat(pressure.actionFor(ApiKeys.LIST_OFFSETS).throttleMs()).isEqualTo(500);
  }

  @Test
  void exportsTheLevelAsAGauge() {
    final MetricRegistry registry = new MetricRegistry();
    pressure.registerMetrics(registry);
    at(900, 0);
    assertThat(registry.getGauges().get("memory.pressure.level").getValue()).isEqualTo(2);
    assertThat((Double) registry.getGauges().get("memory.pressure.heap.ratio").getValue())
        .isEqualTo(0.9);
  }

  @Test
  void jvmSourceReadsAPlausibleHeap() {
    try (JvmMemoryUsage jvm = new JvmMemoryUsage()) {
      final MemoryReading r = jvm.read();
      assertThat(r.heapMax()).isEqualTo(Runtime.getRuntime().maxMemory());
      assertThat(r.heapUsedAfterGc()).isPositive().isLessThanOrEqualTo(r.heapMax());
      assertThat(r.directMax()).isPositive();
      System.gc();
      assertThat(jvm.read().heapUsedAfterGc()).isPositive();
    }
  }
}
