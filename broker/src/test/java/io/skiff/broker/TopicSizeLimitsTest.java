package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A topic's {@code max.message.bytes} is the limit a producer meets, all the way down to Raft; a
 * batch refused for size gets MESSAGE_TOO_LARGE and costs no offset.
 */
class TopicSizeLimitsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String TWO_MIB = "x".repeat(2 << 20);

  @TempDir Path dir;

  @Test
  void aTopicWithALargerMaxMessageBytesStoresA2MiBBatch() throws Exception {
    try (BrokerCluster cluster =
        new BrokerCluster(dir, 3, Map.of("raft.entry.max.bytes", Integer.toString(9 << 20)))) {
      createTopic(cluster.bootstrap(), "big");
      try (KafkaProducer<String, String> producer = producer(cluster.bootstrap())) {
        final RecordMetadata large =
            producer.send(new ProducerRecord<>("big", 0, "k", TWO_MIB)).get(60, TimeUnit.SECONDS);
        final RecordMetadata small =
            producer.send(new ProducerRecord<>("big", 0, "k", "small")).get(60, TimeUnit.SECONDS);
        assertThat(large.offset()).isZero();
        assertThat(small.offset()).isEqualTo(1);
      }
      assertThat(read(cluster.bootstrap(), "big")).containsExactly(TWO_MIB, "small");
    }
  }

  @Test
  void aBatchAboveWhatOneRaftEntryCarriesGetsMessageTooLargeAndNoOffset() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of())) {
      createTopic(cluster.bootstrap(), "capped");
      try (KafkaProducer<String, String> producer = producer(cluster.bootstrap())) {
        assertThatThrownBy(
                () ->
                    producer
                        .send(new ProducerRecord<>("capped", 0, "k", TWO_MIB))
                        .get(60, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(RecordTooLargeException.class)
            .cause()
            .hasMessageContaining("raft.entry.max.bytes");
        final RecordMetadata next =
            producer
                .send(new ProducerRecord<>("capped", 0, "k", "after"))
                .get(60, TimeUnit.SECONDS);
        assertThat(next.offset()).as("the refused batch took no offset").isZero();
      }
      assertThat(read(cluster.bootstrap(), "capped")).containsExactly("after");
    }
  }

  private static void createTopic(String bootstrap, String name) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(name, 1, (short) 3).configs(Map.of("max.message.bytes", "8388608"))))
          .all()
          .get(60, TimeUnit.SECONDS);
    }
  }

  private static KafkaProducer<String, String> producer(String bootstrap) {
    final Properties p = KafkaClientsTest.producerProps(bootstrap);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(10 << 20));
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Integer.toString(32 << 20));
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
    return new KafkaProducer<>(p);
  }

  private static List<String> read(String bootstrap, String topic) {
    final Properties p = KafkaClientsTest.consumerProps(bootstrap);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(10 << 20));
    final TopicPartition tp = new TopicPartition(topic, 0);
    final List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      final long end = consumer.endOffsets(List.of(tp), WAIT).get(tp);
      final long deadline = System.nanoTime() + WAIT.toNanos();
      while (consumer.position(tp, WAIT) < end && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
      }
    }
    return values;
  }
}
