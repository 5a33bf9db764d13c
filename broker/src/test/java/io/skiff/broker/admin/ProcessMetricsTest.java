package io.skiff.broker.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessMetricsTest {

  private final MetricRegistry registry = new MetricRegistry();
  private final ProcessMetrics metrics = new ProcessMetrics(registry);

  @AfterEach
  void close() {
    metrics.close();
  }

  @Test
  void reportsHeapAndThreads() {
    assertThat(gauge("jvm.memory.used.bytes[area=heap]")).isPositive();
    assertThat(gauge("jvm.memory.committed.bytes[area=heap]"))
        .isGreaterThanOrEqualTo(gauge("jvm.memory.used.bytes[area=heap]"));
    assertThat(gauge("jvm.memory.used.bytes[area=nonheap]")).isPositive();
    long live = gauge("jvm.threads.live");
    assertThat(live).isPositive();
    assertThat(gauge("jvm.threads.daemon")).isBetween(0L, live);
    assertThat(gauge("jvm.threads.peak")).isGreaterThanOrEqualTo(live);
  }

  @Test
  void reportsDirectBuffersHeldByTheProcess() {
    ByteBuffer held = ByteBuffer.allocateDirect(64 * 1024);

    assertThat(gauge("jvm.buffer.count[pool=direct]")).isPositive();
    assertThat(gauge("jvm.buffer.capacity.bytes[pool=direct]"))
        .isGreaterThanOrEqualTo(held.capacity());
    assertThat(gauge("jvm.buffer.used.bytes[pool=direct]")).isGreaterThanOrEqualTo(held.capacity());
    assertThat(gauge("jvm.buffer.count[pool=mapped]")).isNotNegative();
  }

  @Test
  void reportsProcessCountersFromProc() {
    assumeThat(Files.isDirectory(Path.of("/proc/self"))).isTrue();

    long rss = gauge("process.resident.memory.bytes");
    assertThat(rss).isPositive();
    assertThat(gauge("process.virtual.memory.bytes")).isGreaterThan(rss);
    assertThat(gauge("process.page.faults[type=minor]")).isPositive();
    assertThat(gauge("process.page.faults[type=major]")).isNotNegative();
    assertThat(gauge("process.open.fds")).isPositive();
    assertThat((Double) registry.getGauges().get("process.cpu.seconds").getValue()).isPositive();
  }

  @Test
  void reportsMinusOneForProcessCountersWithoutProc(@TempDir Path noProc) {
    MetricRegistry other = new MetricRegistry();
    ProcessMetrics withoutProc = new ProcessMetrics(other, new ProcSelf(noProc.resolve("absent")));
    try {
      assertThat(other.getGauges().get("process.resident.memory.bytes").getValue()).isEqualTo(-1L);
      assertThat(other.getGauges().get("process.page.faults[type=minor]").getValue())
          .isEqualTo(-1L);
      assertThat(other.getGauges().get("process.cpu.seconds").getValue()).isEqualTo(-1.0);
      assertThat(other.getGauges().get("process.open.fds").getValue()).isEqualTo(-1L);
    } finally {
      withoutProc.close();
    }
  }

  @Test
  void leavesTheRegistryAsItWasWhenANameIsTaken() {
    assertThatThrownBy(() -> new ProcessMetrics(registry))
        .isInstanceOf(IllegalArgumentException.class);

    metrics.close();
    assertThat(registry.getMetrics()).isEmpty();
  }

  @Test
  void recordsAPauseAndACollectionForAForcedGc() throws InterruptedException {
    long pausesBefore = registry.histogram(ProcessMetrics.GC_PAUSE_MS).getCount();
    long collectionsBefore = collections();
    long reclaimedBefore = registry.counter("jvm.gc.reclaimed.bytes").getCount();
    garbage = null;
    for (int i = 0; i < 64; i++) {
      garbage = new byte[1 << 20]; // 64 MiB of garbage for the collection to reclaim
    }

    System.gc();

    // GC notifications are delivered asynchronously by the JVM's notification thread, which
    // updates the pause histogram, the collection counter and the reclaimed counter one after the
    // other: wait for all three.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while ((registry.histogram(ProcessMetrics.GC_PAUSE_MS).getCount() == pausesBefore
            || collections() == collectionsBefore
            || registry.counter("jvm.gc.reclaimed.bytes").getCount() == reclaimedBefore)
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(registry.histogram(ProcessMetrics.GC_PAUSE_MS).getCount())
        .isGreaterThan(pausesBefore);
    assertThat(collections()).isGreaterThan(collectionsBefore);
    assertThat(registry.counter("jvm.gc.reclaimed.bytes").getCount())
        .isGreaterThan(reclaimedBefore);
  }

  /** Keeps the allocations above from being optimised away. */
  private static volatile byte[] garbage;

  @Test
  void tellsPausesFromConcurrentCycles() {
    assertThat(ProcessMetrics.isPause("G1 Young Generation")).isTrue();
    assertThat(ProcessMetrics.isPause("G1 Old Generation")).isTrue();
    assertThat(ProcessMetrics.isPause("ZGC Pauses")).isTrue();
    assertThat(ProcessMetrics.isPause("ZGC Cycles")).isFalse();
    assertThat(ProcessMetrics.isPause("G1 Concurrent GC")).isFalse();
    assertThat(ProcessMetrics.isPause("Shenandoah Cycles")).isFalse();
  }

  @Test
  void rendersAsPrometheusText() {
    String text = PrometheusFormat.render(registry);

    assertThat(text)
        .contains("# TYPE skiff_jvm_memory_used_bytes gauge\n")
        .contains("skiff_jvm_memory_used_bytes{area=\"heap\"} ")
        .contains("skiff_jvm_buffer_used_bytes{pool=\"direct\"} ")
        .contains("# TYPE skiff_jvm_gc_pause_ms summary\n")
        .contains("skiff_jvm_gc_pause_ms_count ")
        .contains("# TYPE skiff_jvm_gc_collections_total counter\n")
        .contains("skiff_jvm_gc_collections_total{collector=")
        .contains("skiff_process_resident_memory_bytes ")
        .contains("skiff_process_page_faults{type=\"major\"} ");
  }

  @Test
  void closeRemovesItsMetricsSoTheRegistryCanBeReused() {
    metrics.close();

    assertThat(registry.getMetrics()).isEmpty();
    ProcessMetrics again = new ProcessMetrics(registry);
    try {
      assertThat(registry.getGauges()).containsKey("jvm.threads.live");
    } finally {
      again.close();
    }
  }

  private long gauge(String name) {
    Gauge<?> gauge = registry.getGauges().get(name);
    assertThat(gauge).as(name).isNotNull();
    return ((Number) gauge.getValue()).longValue();
  }

  private long collections() {
    return registry.getCounters().entrySet().stream()
        .filter(entry -> entry.getKey().startsWith("jvm.gc.collections["))
        .mapToLong(entry -> entry.getValue().getCount())
        .sum();
  }
}
