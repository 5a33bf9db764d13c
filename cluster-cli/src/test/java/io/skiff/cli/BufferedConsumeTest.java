package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skiff.broker.BrokerCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code skiff consume} through its bounded fetch buffer against three real brokers: every record
 * once and in order, the cap held with a backlog larger than it, and a leader change mid-way.
 */
@Timeout(600)
class BufferedConsumeTest extends ThreeBrokerCommandTest {
  @Override
  Cli commandLine(BrokerCluster brokers) {
    return Cli.against(brokers, "120s", 1, 2, 3);
  }

  @Test
  void printsEveryRecordOfEveryPartitionOnceInPartitionOrder() throws Exception {
    ok("topic", "create", "spread", "-p", "3", "-r", "3");
    produce("spread", 3, 1000, 0);

    final Cli.Run run = ok("consume", "spread", "-o", "json");
    assertExactlyOnceInOrder(records(run.out()), 3, 1000);
    assertThat(stats(run).path("records").asLong()).isEqualTo(3000);
    assertThat(ok("consume", "spread", "-p", "1", "-n", "5").out().lines())
        .containsExactly("1:0", "1:1", "1:2", "1:3", "1:4");
    assertThat(ok("consume", "spread", "-p", "2", "--from", "998").out().lines())
        .containsExactly("2:998", "2:999");
  }

  @Test
  void aCapBelowOnePartitionsBacklogDrainsEverythingWithoutExceedingIt() throws Exception {
    ok("topic", "create", "backlog", "-p", "2", "-r", "3");
    produce("backlog", 2, 1500, 1000); // 1.5 MB per partition, in batches up to 16 KiB

    final Cli.Run run = ok("consume", "backlog", "--buffer-bytes", "65536", "-o", "json");
    assertExactlyOnceInOrder(records(run.out()), 2, 1500);
    final JsonNode stats = stats(run);
    assertThat(stats.path("buffer_bytes").asLong()).isEqualTo(65536);
    assertThat(stats.path("fetched_bytes").asLong()).isGreaterThan(3_000_000);
    assertThat(stats.path("buffer_peak_bytes").asLong()).isPositive().isLessThanOrEqualTo(65536);
    assertThat(stats.path("oversized_batches").asLong()).isZero();
    assertThat(stats.path("buffer_waits").asLong()).as("the cap held fetches back").isPositive();

    final Cli.Run tooSmall = cli.run("consume", "backlog", "--buffer-bytes", "1000");
    assertThat(tooSmall.exit()).isEqualTo(2);
    assertThat(tooSmall.err()).contains("--buffer-bytes must be at least 65536");
  }

  @Test
  void aLeaderChangeDuringConsumptionNeitherLosesNorRepeatsRecords() throws Exception {
    ok("topic", "create", "moving", "-p", "3", "-r", "3");
    produce("moving", 3, 400, 500);
    final Map<Integer, List<BufferedConsumer.ConsumedRecord>> read = new HashMap<>();
    try (Admin admin = Admin.create(adminProperties());
        BufferedConsumer consumer =
            new BufferedConsumer(
                admin, clientProperties(), "moving", 65536, false, Duration.ofSeconds(120))) {
      final Map<TopicPartition, Long> start = new HashMap<>();
      for (int p = 0; p < 3; p++) {
        start.put(new TopicPartition("moving", p), 0L);
      }
      consumer.start(start);
      pollUntil(consumer, read, 600);

      final int leader = leaderOf(admin, 0);
      ok("broker", "maintenance", "on", Integer.toString(leader));
      try {
        awaitNoLeadershipOn(admin, leader);
        produce("moving", 3, 400, 500, 400);
        pollUntil(consumer, read, 3 * 800);
      } finally {
        ok("broker", "maintenance", "off", Integer.toString(leader));
      }
      assertThat(consumer.stats().leaderChanges())
          .as("the fetcher of the old leader handed its partitions back")
          .isPositive();
      assertThat(consumer.stats().peakBytes()).isLessThanOrEqualTo(65536);
    }
    final List<JsonNode> asJson = new ArrayList<>();
    final ObjectMapper mapper = new ObjectMapper();
    read.values()
        .forEach(
            list ->
                list.forEach(
                    r ->
                        asJson.add(
                            mapper
                                .createObjectNode()
                                .put("partition", r.partition())
                                .put("offset", r.offset())
                                .put("value", r.value()))));
    assertExactlyOnceInOrder(asJson, 3, 800);
  }

  @Test
  void anOffsetDeletedBeforeItWasReadResumesAtTheLogStart() throws Exception {
    ok("topic", "create", "trimmed", "-p", "1", "-r", "3");
    produce("trimmed", 1, 100, 0);
    final TopicPartition tp = new TopicPartition("trimmed", 0);
    try (Admin admin = Admin.create(adminProperties())) {
      admin
          .deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(60)))
          .all()
          .get(60, TimeUnit.SECONDS);
      final Map<Integer, List<BufferedConsumer.ConsumedRecord>> read = new HashMap<>();
      try (BufferedConsumer consumer =
          new BufferedConsumer(
              admin, clientProperties(), "trimmed", 65536, false, Duration.ofSeconds(120))) {
        consumer.start(Map.of(tp, 0L)); // below the log start: the leader answers out of range
        pollUntil(consumer, read, 40);
        assertThat(consumer.position(tp)).isEqualTo(100);
      }
      assertThat(read.get(0).get(0).offset()).isEqualTo(60);
      assertThat(read.get(0).get(0).value()).isEqualTo("0:60");
      assertThat(read.get(0)).hasSize(40);
    }
    assertThat(ok("consume", "trimmed", "--from", "10").out().lines())
        .hasSize(40)
        .startsWith("0:60");
  }

  /** Polls until {@code total} records were read, failing if they do not come in time. */
  private static void pollUntil(
      BufferedConsumer consumer,
      Map<Integer, List<BufferedConsumer.ConsumedRecord>> read,
      int total)
      throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    int count = read.values().stream().mapToInt(List::size).sum();
    while (count < total) {
      assertThat(System.nanoTime())
          .as("read %d of %d records in time", count, total)
          .isLessThan(deadline);
      for (BufferedConsumer.ConsumedRecord r : consumer.poll(Duration.ofMillis(200))) {
        read.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r);
        count++;
      }
    }
  }

  private static int leaderOf(Admin admin, int partition) throws Exception {
    return describe(admin).partitions().get(partition).leader().id();
  }

  private static TopicDescription describe(Admin admin) throws Exception {
    return admin
        .describeTopics(List.of("moving"))
        .allTopicNames()
        .get(30, TimeUnit.SECONDS)
        .get("moving");
  }

  private static void awaitNoLeadershipOn(Admin admin, int broker) throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (true) {
      boolean moved = true;
      for (TopicPartitionInfo p : describe(admin).partitions()) {
        moved &= p.leader() != null && !p.leader().isEmpty() && p.leader().id() != broker;
      }
      if (moved) {
        return;
      }
      assertThat(System.nanoTime()).as("leaderships left broker %d", broker).isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  /** Produces values "P:I" to each partition P, I from {@code from} on, padded to {@code size}. */
  private void produce(String topic, int partitions, int perPartition, int size, int from) {
    final Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      for (int i = from; i < from + perPartition; i++) {
        for (int part = 0; part < partitions; part++) {
          final String value = part + ":" + i;
          producer.send(
              new ProducerRecord<>(
                  topic, part, "k" + i, size <= value.length() ? value : pad(value, size)));
        }
      }
      producer.flush();
    }
  }

  private void produce(String topic, int partitions, int perPartition, int size) {
    produce(topic, partitions, perPartition, size, 0);
  }

  private static String pad(String value, int size) {
    return value + "|" + "x".repeat(size - value.length() - 1);
  }

  /** Each partition's records in offset order, values "P:0" … "P:(n-1)", none missing or twice. */
  private static void assertExactlyOnceInOrder(List<JsonNode> records, int partitions, int each) {
    assertThat(records).hasSize(partitions * each);
    final Map<Integer, List<JsonNode>> byPartition = new HashMap<>();
    records.forEach(
        r ->
            byPartition
                .computeIfAbsent(r.path("partition").asInt(), p -> new ArrayList<>())
                .add(r));
    assertThat(byPartition).hasSize(partitions);
    byPartition.forEach(
        (p, list) -> {
          for (int i = 0; i < list.size(); i++) {
            final String value = list.get(i).path("value").asText().split("\\|")[0];
            assertThat(value).as("partition %d, record %d", p, i).isEqualTo(p + ":" + i);
            if (i > 0) {
              assertThat(list.get(i).path("offset").asLong())
                  .isGreaterThan(list.get(i - 1).path("offset").asLong());
            }
          }
        });
  }

  private static List<JsonNode> records(String out) throws Exception {
    final List<JsonNode> lines = new ArrayList<>();
    final ObjectMapper mapper = new ObjectMapper();
    for (String line : out.strip().lines().toList()) {
      lines.add(mapper.readTree(line));
    }
    return lines;
  }

  /** The stats object the command prints on stderr (its last line) with --output json. */
  private static JsonNode stats(Cli.Run run) throws Exception {
    final List<String> lines = run.err().strip().lines().toList();
    return new ObjectMapper().readTree(lines.get(lines.size() - 1));
  }

  private Properties clientProperties() {
    final Properties p = new Properties();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
    p.put(CommonClientConfigs.CLIENT_ID_CONFIG, "buffered-consume-test");
    return p;
  }

  private Properties adminProperties() {
    final Properties p = clientProperties();
    p.put(AdminClientConfig.RETRIES_CONFIG, "2147483647");
    return p;
  }
}
