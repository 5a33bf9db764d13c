package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real kafka-clients against three real brokers. */
class KafkaClientsTest {
  @TempDir Path dir;

  static Properties producerProps(String bootstrap) {
    final Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return p;
  }

  /**
   * {@link #producerProps} for a producer that neither retries nor is idempotent, so that the first
   * error a send meets is the one the test sees (within 10 s a request, 20 s a send).
   */
  static Properties noRetriesProducerProps(String bootstrap) {
    final Properties p = producerProps(bootstrap);
    p.put(ProducerConfig.RETRIES_CONFIG, "0");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
    return p;
  }

  /**
   * The values of a partition from its start to its end offset as read when the call begins, in log
   * order; what is left unread after {@code timeout} is missing from the list.
   */
  static List<String> readPartition(String bootstrap, TopicPartition tp, Duration timeout) {
    final List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap))) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      final long end = consumer.endOffsets(List.of(tp), timeout).get(tp);
      final long deadline = System.nanoTime() + timeout.toNanos();
      while (consumer.position(tp, timeout) < end && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          values.add(r.value());
        }
      }
    }
    return values;
  }

  /**
   * The values of {@code expected} that {@code read} lacks, by set look-ups: AssertJ's {@code
   * containsAll} compares every pair, minutes for the 10^5 records a long load acknowledges.
   */
  static List<String> missingFrom(Collection<String> read, Collection<String> expected) {
    final Set<String> present = new HashSet<>(read);
    return expected.stream().filter(v -> !present.contains(v)).toList();
  }

  /**
   * The values of partitions {@code 0 .. partitions - 1} of {@code topic}, one list a partition in
   * log order, read by one consumer from their start to their end offsets as read when the call
   * begins; what is left unread after 90 s is missing from the lists.
   */
  static List<List<String>> readPartitions(String bootstrap, String topic, int partitions) {
    final List<List<String>> read = new ArrayList<>();
    final List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      read.add(new ArrayList<>());
      tps.add(new TopicPartition(topic, p));
    }
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap))) {
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      final Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (System.nanoTime() < deadline
          && tps.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          read.get(r.partition()).add(r.value());
        }
      }
    }
    return read;
  }

  static Properties consumerProps(String bootstrap) {
    final Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return p;
  }

  @Test
  void producesAndConsumesThroughThreeBrokers() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of())) {
      final String bootstrap = cluster.bootstrap();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin
            .createTopics(List.of(new NewTopic("events", 3, (short) 3)))
            .all()
            .get(30, TimeUnit.SECONDS);
        final TopicDescription described =
            admin
                .describeTopics(List.of("events"))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get("events");
        assertThat(described.partitions()).hasSize(3);
        assertThat(described.partitions().get(0).replicas()).hasSize(3);
      }
      final int count = 100_000;
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
        for (int i = 0; i < count; i++) {
          producer.send(new ProducerRecord<>("events", i % 3, "k" + i, "value-" + i));
        }
        producer.flush();
      }
      final List<TopicPartition> partitions =
          List.of(
              new TopicPartition("events", 0),
              new TopicPartition("events", 1),
              new TopicPartition("events", 2));
      final Map<Integer, List<ConsumerRecord<String, String>>> byPartition = new HashMap<>();
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap))) {
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        int seen = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (seen < count && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            byPartition.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r);
            seen++;
          }
        }
        assertThat(seen).isEqualTo(count);
      }
      for (int p = 0; p < 3; p++) {
        final List<ConsumerRecord<String, String>> records = byPartition.get(p);
        for (int i = 0; i < records.size(); i++) {
          assertThat(records.get(i).offset()).isEqualTo(i);
          assertThat(records.get(i).value()).isEqualTo("value-" + (i * 3 + p));
        }
      }
    }
  }
}
