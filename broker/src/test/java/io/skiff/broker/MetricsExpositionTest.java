package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code /metrics} text of a running broker, read as Prometheus reads it: every family typed,
 * counters with {@code _total}, histograms with cumulative buckets that grow with requests, the
 * standard JVM and process names, and (when {@code promtool} is installed) a clean {@code promtool
 * check metrics}.
 */
class MetricsExpositionTest {
  private static final Pattern TYPE = Pattern.compile("# TYPE (\\S+) (\\S+)");
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{.*})? (\\S+)");
  private static final String PRODUCE_TOTAL = "skiff_kafka_request_total_time_seconds";

  /**
   * Lint findings accepted for families kept under their old names because the memory-profile
   * dashboards and docs read them (docs/memory-profile.md).
   */
  private static final List<String> KEPT_NAMES =
      List.of(
          "skiff_jvm_gc_pause_ms ", "skiff_jvm_buffer_count ", "skiff_groups_timer_last_tick_ms ");

  @TempDir static Path dir;

  private static BrokerCluster cluster;

  @BeforeAll
  static void startBroker() throws Exception {
    cluster = new BrokerCluster(dir, 1, Map.of());
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin
          .createTopics(List.of(new NewTopic("scraped", 1, (short) 1)))
          .all()
          .get(60, TimeUnit.SECONDS);
    }
    produce(cluster, 5);
  }

  @AfterAll
  static void stopBroker() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void promtoolAcceptsTheExposition() throws Exception {
    assumeTrue(
        ExternalCommand.available("promtool", "--version"),
        "promtool is not installed (Debian: apt-get install prometheus); skipping its check");
    final String text = scrape(cluster.broker(1)).text;
    final ExternalCommand.Result result =
        ExternalCommand.of("promtool", "check", "metrics").stdin(text).start();
    final List<String> problems =
        (result.stdout() + result.stderr())
            .lines()
            .filter(line -> !line.isBlank())
            .filter(line -> KEPT_NAMES.stream().noneMatch(line::startsWith))
            .toList();
    assertThat(problems).as("promtool check metrics findings; exposition:%n%s", text).isEmpty();
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void brokerMetricsAreTypedSuffixedAndGrowWithRequests() throws Exception {
    final Exposition before = scrape(cluster.broker(1));
    produce(cluster, 10);
    final Exposition after = scrape(cluster.broker(1));

    assertThat(after.types).containsEntry(PRODUCE_TOTAL, "histogram");
    final String api = "api=\"Produce\"";
    assertThat(
            after.value(PRODUCE_TOTAL + "_count", api)
                - before.value(PRODUCE_TOTAL + "_count", api))
        .isGreaterThanOrEqualTo(10);
    assertThat(after.value(PRODUCE_TOTAL + "_bucket", api + ",le=\"+Inf\""))
        .isEqualTo(after.value(PRODUCE_TOTAL + "_count", api));
    assertThat(after.value(PRODUCE_TOTAL + "_sum", api)).isPositive();
    for (String part : List.of("queue", "local", "remote")) {
      assertThat(after.types)
          .containsEntry("skiff_kafka_request_" + part + "_time_seconds", "histogram");
    }
    after.types.forEach(
        (family, type) -> {
          if (type.equals("counter")) {
            assertThat(family).as("counter family").endsWith("_total");
          }
        });
    assertThat(after.types)
        .containsEntry("skiff_kafka_requests_total", "counter")
        .containsEntry("skiff_fetch_zero_copy_bytes_total", "counter")
        .containsEntry("skiff_partitions_leader", "gauge")
        .containsEntry("skiff_partitions_under_replicated", "gauge")
        .containsEntry("skiff_partitions_offline", "gauge")
        .containsEntry("process_cpu_seconds_total", "counter")
        .containsEntry("process_resident_memory_bytes", "gauge")
        .containsEntry("process_open_fds", "gauge")
        .containsEntry("jvm_memory_used_bytes", "gauge")
        .containsEntry("jvm_gc_collection_seconds", "summary")
        .containsEntry("skiff_jvm_memory_used_bytes", "gauge");
    assertThat(after.types).containsEntry("skiff_raft_commit_latency_seconds", "histogram");
    assertThat(
            after.value("skiff_raft_commit_latency_seconds_count", "")
                - before.value("skiff_raft_commit_latency_seconds_count", ""))
        .as("appends this broker led to a commit")
        .isGreaterThanOrEqualTo(10);
    assertThat(after.types).containsEntry("skiff_log_syncfs_time_seconds", "histogram");
    assertThat(
            after.value("skiff_log_syncfs_time_seconds_count", "")
                - before.value("skiff_log_syncfs_time_seconds_count", ""))
        .as("syncfs rounds timed while the appends were flushed")
        .isPositive();
    assertThat(after.value("skiff_log_syncfs_time_seconds_count", ""))
        .as("one time per round (told just before the round is counted)")
        .isGreaterThanOrEqualTo(after.value("skiff_log_syncfs_rounds_total", ""));
    assertThat(after.value("skiff_partitions_leader", "")).isEqualTo(1);
    assertThat(after.value("jvm_memory_used_bytes", "area=\"heap\"")).isPositive();
    assertThat(after.value("process_cpu_seconds_total", "")).isPositive();
    assertThat(after.value("skiff_kafka_requests_total", api)).isGreaterThanOrEqualTo(15);
  }

  private static void produce(BrokerCluster cluster, int records) throws Exception {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>("scraped", "v" + i)).get(30, TimeUnit.SECONDS);
      }
    }
  }

  private static void consumeAll(BrokerCluster cluster, int records) {
    final Properties props = KafkaClientsTest.consumerProps(cluster.bootstrap());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "scraper");
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of("scraped"));
      int read = 0;
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (read < records && System.nanoTime() < deadline) {
        read += consumer.poll(Duration.ofMillis(500)).count();
      }
      assertThat(read).as("records consumed").isEqualTo(records);
    }
  }

  private static Exposition scrape(Broker broker) throws Exception {
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + broker.adminPort() + "/metrics"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return Exposition.parse(response.body());
  }

  /** The families and samples of one scrape. */
  private record Exposition(String text, Map<String, String> types, Map<String, Double> samples) {
    static Exposition parse(String text) {
      final Map<String, String> types = new HashMap<>();
      final Map<String, Double> samples = new HashMap<>();
      final List<String> families = new ArrayList<>();
      for (String line : text.split("\n")) {
        final Matcher type = TYPE.matcher(line);
        if (type.matches()) {
          assertThat(types.put(type.group(1), type.group(2)))
              .as("second TYPE of %s", line)
              .isNull();
          families.add(type.group(1));
          continue;
        }
        if (line.startsWith("#")) {
          continue;
        }
        final Matcher sample = SAMPLE.matcher(line);
        assertThat(sample.matches()).as("sample line %s", line).isTrue();
        final String family = families.get(families.size() - 1);
        assertThat(sample.group(1)).as("sample of family %s", family).startsWith(family);
        final String labels = sample.group(2) == null ? "" : sample.group(2);
        samples.put(
            sample.group(1) + labels,
            Double.parseDouble(sample.group(3).replace("Inf", "Infinity")));
      }
      return new Exposition(text, types, samples);
    }

    double value(String name, String labels) {
      final String key = labels.isEmpty() ? name : name + "{" + labels + "}";
      assertThat(samples).as("samples").containsKey(key);
      return samples.get(key);
    }
  }
}
