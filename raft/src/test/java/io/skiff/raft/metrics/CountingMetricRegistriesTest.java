package io.skiff.raft.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.ratis.metrics.LongCounter;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.Timekeeper;
import org.junit.jupiter.api.Test;

class CountingMetricRegistriesTest {
  private static MetricRegistryInfo info(String prefix) {
    return new MetricRegistryInfo(prefix, "ratis", "server", "test");
  }

  @Test
  void ratisFindsSkiffsRegistriesAsItsMetricsService() {
    assertThat(MetricRegistries.global()).isInstanceOf(CountingMetricRegistries.class);
  }

  @Test
  void timersCountAndSumWithoutSampling() throws InterruptedException {
    final RatisMetricRegistry registry = new CountingMetricRegistries().create(info("n1@g1"));
    final Timekeeper timer = registry.timer("clientWriteRequest");
    assertThat(timer).isInstanceOf(CountingTimer.class);
    for (int i = 0; i < 3; i++) {
      final Timekeeper.Context context = timer.time();
      Thread.sleep(2);
      assertThat(context.stop()).isGreaterThanOrEqualTo(2_000_000L);
    }
    final CountingTimer counting = (CountingTimer) registry.timer("clientWriteRequest");
    assertThat(counting).isSameAs(timer);
    assertThat(counting.count()).isEqualTo(3);
    assertThat(counting.totalNanos()).isGreaterThanOrEqualTo(6_000_000L);
    assertThat(counting.meanMillis()).isGreaterThanOrEqualTo(2.0);
  }

  @Test
  void countersAreSharedByNameAndGaugesKeepTheFirstRegistration() {
    final CountingMetricRegistry registry =
        (CountingMetricRegistry) new CountingMetricRegistries().create(info("n1@g1"));
    final LongCounter elections = registry.counter("electionCount");
    elections.inc();
    registry.counter("electionCount").inc(4);
    elections.dec();
    assertThat(registry.counter("electionCount").getCount()).isEqualTo(4);

    final AtomicInteger queue = new AtomicInteger(7);
    final Supplier<Supplier<Integer>> first = () -> queue::get;
    final Supplier<Supplier<Integer>> second = () -> () -> -1;
    registry.gauge("numPendingRequestInQueue", first);
    registry.gauge("numPendingRequestInQueue", second);
    queue.set(9);
    assertThat(registry.gaugeValue("numPendingRequestInQueue")).isEqualTo(9);

    assertThat(registry.remove("numPendingRequestInQueue")).isTrue();
    assertThat(registry.gaugeValue("numPendingRequestInQueue")).isNull();
    assertThat(registry.remove("numPendingRequestInQueue")).isFalse();
  }

  @Test
  void registriesAreReferenceCountedAndReportersSeeThemComeAndGo() {
    final CountingMetricRegistries registries = new CountingMetricRegistries();
    final AtomicInteger reported = new AtomicInteger();
    final AtomicInteger stopped = new AtomicInteger();
    registries.addReporterRegistration(
        r -> reported.incrementAndGet(), r -> stopped.getAndIncrement());

    final RatisMetricRegistry first = registries.create(info("n1@g1"));
    final RatisMetricRegistry again = registries.create(info("n1@g1"));
    assertThat(again).isSameAs(first);
    assertThat(reported).hasValue(1);
    assertThat(registries.getMetricRegistries()).containsExactly(first);

    assertThat(registries.remove(info("n1@g1"))).as("one reference left").isFalse();
    assertThat(registries.get(info("n1@g1"))).contains(first);
    assertThat(registries.remove(info("n1@g1"))).as("last reference").isTrue();
    assertThat(registries.get(info("n1@g1"))).isEmpty();
    assertThat(registries.getMetricRegistryInfos()).isEmpty();
    assertThat(stopped).hasValue(2);
  }

  @Test
  void jmxExportIsRefusedWithAReason() {
    assertThatThrownBy(() -> new CountingMetricRegistries().enableJmxReporter())
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("JMX");
  }
}
