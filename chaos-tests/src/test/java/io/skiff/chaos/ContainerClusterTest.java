package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The runtime image end to end: three broker containers on a Docker network, kafka-clients
 * producing and consuming through them, one container killed, every acknowledged record still read.
 */
class ContainerClusterTest {
  private static final String TOPIC = "orders";

  @BeforeAll
  static void docker() {
    SkiffImage.requireDocker();
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void threeBrokerContainersKeepEveryAcknowledgedRecordWhenOneIsKilled() throws Exception {
    try (SkiffContainerCluster cluster = new SkiffContainerCluster(3, Map.of()).start()) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()))) {
        admin
            .createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3)))
            .all()
            .get(60, TimeUnit.SECONDS);
      }
      final Set<String> acknowledged = new HashSet<>(produce(cluster.bootstrap(), "before", 300));
      assertThat(consumeAll(cluster.bootstrap(), "readers-1", 300)).containsAll(acknowledged);

      cluster.kill(2);
      acknowledged.addAll(produce(cluster.bootstrap(), "after", 100));

      assertThat(acknowledged).hasSize(400);
      assertThat(consumeAll(cluster.bootstrap(), "readers-2", 400))
          .containsExactlyInAnyOrderElementsOf(acknowledged);
    }
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
