package io.skiff.broker.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.Clock;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.SlidingWindowReservoir;
import com.codahale.metrics.Timer;
import java.time.Duration;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PrometheusFormatTest {

  private final MetricRegistry registry = new MetricRegistry();

  @Test
  void rendersNumericGaugesAndSkipsOthers() {
    registry.register("broker.partitions", (Gauge<Integer>) () -> 12);
    registry.register("log.dirty.ratio", (Gauge<Double>) () -> 0.25);
    registry.register("broker.id.text", (Gauge<String>) () -> "one");
    registry.register("cache.hit.ratio", (Gauge<Double>) () -> Double.NaN);

    assertThat(rendered())
        .isEqualTo(
            """
            # TYPE skiff_broker_partitions gauge
            skiff_broker_partitions 12
            # TYPE skiff_cache_hit_ratio gauge
            skiff_cache_hit_ratio NaN
            # TYPE skiff_log_dirty_ratio gauge
            skiff_log_dirty_ratio 0.25
            """);
  }

  @Test
  void rendersCountersAsCountersWithTotalSuffix() {
    registry.counter("requests.malformed").inc(3);

    assertThat(rendered())
        .isEqualTo(
            """
            # TYPE skiff_requests_malformed_total counter
            skiff_requests_malformed_total 3
            """);
  }

  @Test
  void rendersLatencyHistogramWithCumulativeBucketsSumAndCount() {
    LatencyHistogram histogram =
        registry.register("request.time[api=Produce]", new LatencyHistogram());
    histogram.record(700_000); // 0.7 ms: in le=0.001 and above
    histogram.record(2_000_000_000L); // 2 s: in le=2.5 and above
    histogram.record(90_000_000_000L); // 90 s: only in +Inf

    String text = rendered();

    assertThat(text)
        .startsWith("# TYPE skiff_request_time_seconds histogram\n")
        .contains("skiff_request_time_seconds_bucket{api=\"Produce\",le=\"0.0005\"} 0\n")
        .contains("skiff_request_time_seconds_bucket{api=\"Produce\",le=\"0.001\"} 1\n")
        .contains("skiff_request_time_seconds_bucket{api=\"Produce\",le=\"1\"} 1\n")
        .contains("skiff_request_time_seconds_bucket{api=\"Produce\",le=\"2.5\"} 2\n")
        .contains("skiff_request_time_seconds_bucket{api=\"Produce\",le=\"60\"} 2\n")
        .contains("skiff_request_time_seconds_bucket{api=\"Produce\",le=\"+Inf\"} 3\n")
        .contains("skiff_request_time_seconds_sum{api=\"Produce\"} 92.0007\n")
        .contains("skiff_request_time_seconds_count{api=\"Produce\"} 3\n");
    assertThat(text.lines().filter(line -> line.contains("_bucket{"))).hasSize(17);
  }

  @Test
  void rendersMeterCountAndOneMinuteRate() {
    ManualClock clock = new ManualClock();
    Meter meter = registry.register("produce.bytes", new Meter(clock));
    meter.mark(500);
    clock.advance(Duration.ofSeconds(6)); // one 5 s tick: the first sets the rate to 500 / 5 s

    assertThat(rendered())
        .isEqualTo(
            """
            # TYPE skiff_produce_bytes_m1_rate gauge
            skiff_produce_bytes_m1_rate 100.0
            # TYPE skiff_produce_bytes_total counter
            skiff_produce_bytes_total 500
            """);
  }

  @Test
  void rendersHistogramAsSummaryWithQuantilesAndCount() {
    Histogram histogram =
        registry.register("fetch.batch.size", new Histogram(new SlidingWindowReservoir(10)));
    for (int value = 1; value <= 10; value++) {
      histogram.update(value);
    }

    assertThat(rendered())
        .isEqualTo(
            """
            # TYPE skiff_fetch_batch_size summary
            skiff_fetch_batch_size{quantile="0.5"} 5.5
            skiff_fetch_batch_size{quantile="0.75"} 8.25
            skiff_fetch_batch_size{quantile="0.95"} 10.0
            skiff_fetch_batch_size{quantile="0.99"} 10.0
            skiff_fetch_batch_size{quantile="0.999"} 10.0
            skiff_fetch_batch_size_count 10
            """);
  }

  @Test
  void rendersTimerAsSummaryInSeconds() {
    Timer timer = registry.register("produce.latency", new Timer(new SlidingWindowReservoir(4)));
    for (int millis = 1; millis <= 4; millis++) {
      timer.update(Duration.ofMillis(millis));
    }

    assertThat(rendered())
        .isEqualTo(
            """
            # TYPE skiff_produce_latency_seconds summary
            skiff_produce_latency_seconds{quantile="0.5"} 0.0025
            skiff_produce_latency_seconds{quantile="0.75"} 0.00375
            skiff_produce_latency_seconds{quantile="0.95"} 0.004
            skiff_produce_latency_seconds{quantile="0.99"} 0.004
            skiff_produce_latency_seconds{quantile="0.999"} 0.004
            skiff_produce_latency_seconds_count 4
            """);
  }

  @Test
  void groupsLabelledSeriesUnderOneTypeLine() {
    registry.register("partition.size.bytes[topic=orders,partition=3]", (Gauge<Long>) () -> 1024L);
    registry.register("partition.size.bytes[partition=0,topic=payments]", (Gauge<Long>) () -> 7L);
    registry.register("partition.size.bytes", (Gauge<Long>) () -> 1031L);

    assertThat(rendered())
        .isEqualTo(
            """
            # TYPE skiff_partition_size_bytes gauge
            skiff_partition_size_bytes 1031
            skiff_partition_size_bytes{partition="0",topic="payments"} 7
            skiff_partition_size_bytes{partition="3",topic="orders"} 1024
            """);
  }

  @Test
  void addsQuantileAfterTheCallersLabels() {
    Histogram histogram =
        registry.register(
            "request.size.bytes[api=produce]", new Histogram(new SlidingWindowReservoir(1)));
    histogram.update(100);

    assertThat(rendered())
        .contains("skiff_request_size_bytes{api=\"produce\",quantile=\"0.99\"} 100.0\n")
        .contains("skiff_request_size_bytes_count{api=\"produce\"} 1\n");
  }

  @Test
  void sanitisesNamesAndEscapesLabelValues() {
    registry.register("jvm.gc-collections[collector=G1 \"Young\"\\Gen]", new Counter());
    registry.register("9lives.total", new Counter());

    assertThat(rendered())
        .isEqualTo(
            """
            # TYPE skiff_9lives_total counter
            skiff_9lives_total 0
            # TYPE skiff_jvm_gc_collections_total counter
            skiff_jvm_gc_collections_total{collector="G1 \\"Young\\"\\\\Gen"} 0
            """);
  }

  @Test
  void keepsTheFirstOfTwoMetricsThatWouldClash() {
    registry.register("queue.depth", (Gauge<Long>) () -> 5L);
    registry.register("queue_depth", new Histogram(new SlidingWindowReservoir(1)));
    registry.register("queue-depth", (Gauge<Long>) () -> 6L);

    assertThat(rendered())
        .isEqualTo(
            """
            # TYPE skiff_queue_depth gauge
            skiff_queue_depth 6
            """);
  }

  @Test
  void rendersTheSameRegistryIdentically() {
    for (int i = 0; i < 50; i++) {
      registry.counter("counter." + i + "[shard=" + (i % 7) + "]").inc(i);
    }

    assertThat(PrometheusFormat.render(registry)).isEqualTo(PrometheusFormat.render(registry));
  }

  @Test
  void rendersAnEmptyRegistryAsEmptyText() {
    assertThat(PrometheusFormat.render(registry)).isEmpty();
  }

  /** A clock that moves only when told, so that meter rates are exact. */
  private static final class ManualClock extends Clock {
    private long nanos;

    void advance(Duration duration) {
      nanos += duration.toNanos();
    }

    @Override
    public long getTick() {
      return nanos;
    }
  }

  @Test
  void startsEveryFamilyWithHelpNamingTheDropwizardMetric() {
    registry.counter("requests.malformed[listener=plain]").inc();

    assertThat(PrometheusFormat.render(registry))
        .isEqualTo(
            """
            # HELP skiff_requests_malformed_total Skiff metric requests.malformed
            # TYPE skiff_requests_malformed_total counter
            skiff_requests_malformed_total{listener="plain"} 1
            """);
  }

  /** The rendering without its {@code # HELP} lines, which the other tests do not look at. */
  private String rendered() {
    return PrometheusFormat.render(registry)
        .lines()
        .filter(line -> !line.startsWith("# HELP "))
        .map(line -> line + "\n")
        .collect(Collectors.joining());
  }
}
