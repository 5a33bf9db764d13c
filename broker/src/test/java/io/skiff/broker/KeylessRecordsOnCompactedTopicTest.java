package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A compacted topic keeps the latest record per key, so, as on Kafka, a record without a key is
 * refused with INVALID_RECORD ("Compacted topic cannot accept message without key"), compressed or
 * not, for {@code compact} and {@code compact,delete}; a {@code delete} topic still takes it.
 */
class KeylessRecordsOnCompactedTopicTest {
  private static final long WAIT_S = 90;

  @TempDir Path dir;

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void compactedTopicsRefuseRecordsWithoutAKey() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 1, Map.of());
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("compact", 1, (short) 1)
                      .configs(Map.of("cleanup.policy", "compact")),
                  new NewTopic("both", 1, (short) 1)
                      .configs(Map.of("cleanup.policy", "compact,delete")),
                  new NewTopic("plain", 1, (short) 1)))
          .all()
          .get(WAIT_S, TimeUnit.SECONDS);
      for (String topic : List.of("compact", "both", "plain")) {
        // The producer does not retry (so that INVALID_RECORD is seen as it is): a first send
        // before the partition's first leader is elected would be answered NOT_LEADER.
        cluster.awaitLeaders(topic, java.time.Duration.ofSeconds(WAIT_S));
      }

      for (String compression : List.of("none", "gzip")) {
        try (KafkaProducer<String, String> producer = producer(cluster, compression)) {
          for (String topic : List.of("compact", "both")) {
            assertThatThrownBy(
                    () ->
                        producer
                            .send(new ProducerRecord<>(topic, 0, null, "no key"))
                            .get(WAIT_S, TimeUnit.SECONDS))
                .as("%s record without a key on %s", compression, topic)
                .hasCauseInstanceOf(InvalidRecordException.class)
                .hasMessageContaining("Compacted topic cannot accept message without key");
            producer.send(new ProducerRecord<>(topic, 0, "k", "v")).get(WAIT_S, TimeUnit.SECONDS);
          }
          producer
              .send(new ProducerRecord<>("plain", 0, null, "no key"))
              .get(WAIT_S, TimeUnit.SECONDS);
        }
      }

      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(KafkaClientsTest.consumerProps(cluster.bootstrap()))) {
        final TopicPartition compact = new TopicPartition("compact", 0);
        final TopicPartition both = new TopicPartition("both", 0);
        final TopicPartition plain = new TopicPartition("plain", 0);
        final Map<TopicPartition, Long> ends =
            consumer.endOffsets(List.of(compact, both, plain), java.time.Duration.ofSeconds(30));
        assertThat(ends).containsEntry(compact, 2L).containsEntry(both, 2L);
        assertThat(ends).containsEntry(plain, 2L);
      }
    }
  }

  private static KafkaProducer<String, String> producer(BrokerCluster cluster, String compression) {
    final Properties props = KafkaClientsTest.producerProps(cluster.bootstrap());
    props.put(ProducerConfig.RETRIES_CONFIG, "0");
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    return new KafkaProducer<>(props);
  }
}
