package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The runtime image end to end, on one cluster for the whole class (it is the expensive part):
 * three broker containers on a Docker network, kafka-clients producing and consuming through them;
 * a real Prometheus scraping them answers every query of the Grafana dashboard; then one container
 * is killed and every acknowledged record is still read.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerClusterTest {
  private static final String TOPIC = "orders";
  private static final Pattern EXPR = Pattern.compile("\"expr\":\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

  private static SkiffContainerCluster cluster;
  private static final Set<String> acknowledged = new HashSet<>();

  @BeforeAll
  static void startCluster() throws Exception {
    SkiffImage.requireDocker();
    cluster = new SkiffContainerCluster(3, Map.of()).start();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()))) {
      admin
          .createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3)))
          .all()
          .get(60, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void producesAndConsumesThroughThreeBrokerContainers() throws Exception {
    acknowledged.addAll(produce(cluster.bootstrap(), "before", 300));
    assertThat(consumeAll(cluster.bootstrap(), "readers-1", 300)).containsAll(acknowledged);
  }

  @Test
  @Order(2)
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void prometheusScrapesTheClusterAndEveryDashboardQueryReturnsData() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(PrometheusServer.BINARY),
        PrometheusServer.BINARY + " is missing: apt-get install prometheus (.ci/run does)");
    final Path root = SkiffImage.repoRoot();
    final List<String> queries = dashboardQueries(root.resolve("deploy/grafana/skiff.json"));
    assertThat(queries).hasSizeGreaterThan(20);
    final List<String> targets = new ArrayList<>();
    for (int id = 1; id <= 3; id++) {
      targets.add(cluster.ip(id) + ":9644");
    }
    try (PrometheusServer prometheus =
        new PrometheusServer(targets, root.resolve("deploy/prometheus/alerts.yml"))) {
      produce(cluster.bootstrap(), "scraped", 100); // traffic between scrapes for the rates
      final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      List<String> empty = queries;
      while (!empty.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(2_000);
        empty = empty.stream().filter(q -> !prometheus.hasData(q)).toList();
      }
      assertThat(empty)
          .as("dashboard queries without data; Prometheus log:%n%s", prometheus.log())
          .isEmpty();
      assertThat(prometheus.query("up{job=\"skiff\"} == 1")).contains(targets.get(0));
    }
  }

  @Test
  @Order(3)
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void everyAcknowledgedRecordIsReadAfterOneBrokerIsKilled() throws Exception {
    cluster.kill(2);
    acknowledged.addAll(produce(cluster.bootstrap(), "after", 100));
    assertThat(acknowledged).hasSize(400);
    assertThat(consumeAll(cluster.bootstrap(), "readers-2", 400)).containsAll(acknowledged);
  }

  /** Every PromQL expression of a Grafana dashboard. */
  private static List<String> dashboardQueries(Path dashboard) throws IOException {
    final Matcher m = EXPR.matcher(Files.readString(dashboard));
    final List<String> queries = new ArrayList<>();
    while (m.find()) {
      queries.add(m.group(1).replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    return queries;
  }

  /** Sends {@code count} records with acks=all; returns the values the cluster acknowledged. */
  private static List<String> produce(String bootstrap, String prefix, int count) throws Exception {
    final Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
    final List<String> values = new ArrayList<>();
    final List<Future<RecordMetadata>> sends = new ArrayList<>();
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < count; i++) {
        final String value = prefix + "-" + i;
        values.add(value);
        sends.add(producer.send(new ProducerRecord<>(TOPIC, Integer.toString(i), value)));
      }
      for (Future<RecordMetadata> send : sends) {
        send.get(150, TimeUnit.SECONDS);
      }
    }
    return values;
  }

  /** Reads the topic from the beginning until {@code expected} records have arrived. */
  private static List<String> consumeAll(String bootstrap, String group, int expected) {
    final Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    final List<String> values = new ArrayList<>();
    final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(TOPIC));
      while (values.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofSeconds(1))) {
          values.add(r.value());
        }
      }
    }
    return values;
  }
}
