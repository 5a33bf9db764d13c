package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader of a partition dies mid-stream: producers retry onto the new leader, nothing
 * acknowledged is lost.
 */
class LeaderFailoverTest {
  @TempDir Path dir;

  @Test
  void producerRetriesAcrossALeaderKillAndEveryAcknowledgedRecordIsReadable() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of())) {
      final String bootstrap = cluster.bootstrap();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin
            .createTopics(List.of(new NewTopic("orders", 2, (short) 3)))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      final Properties props = KafkaClientsTest.producerProps(bootstrap);
      props.put(ProducerConfig.RETRIES_CONFIG, Integer.toString(Integer.MAX_VALUE));
      props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
      props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
      final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
      final int total = 6_000;
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
        for (int i = 0; i < total; i++) {
          final String value = "order-" + i;
          producer.send(
              new ProducerRecord<>("orders", i % 2, null, value),
              (metadata, error) -> {
                if (error == null) {
                  acknowledged.add(value);
                }
              });
          if (i == total / 3) {
            producer.flush();
            final int leader = leaderOf(cluster, "orders", 0);
            cluster.stop(leader); // mid-stream: later sends must find the new leader
          }
        }
        producer.flush();
      }
      assertThat(acknowledged).hasSize(total);

      final Map<Integer, List<ConsumerRecord<String, String>>> read = new HashMap<>();
      final List<TopicPartition> partitions =
          List.of(new TopicPartition("orders", 0), new TopicPartition("orders", 1));
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(KafkaClientsTest.consumerProps(bootstrap))) {
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        final Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline
            && partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            read.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r);
          }
        }
      }
      final Set<String> seen = ConcurrentHashMap.newKeySet();
      for (List<ConsumerRecord<String, String>> records : read.values()) {
        for (int i = 0; i < records.size(); i++) {
          assertThat(records.get(i).offset()).as("offsets are dense, each once").isEqualTo(i);
          seen.add(records.get(i).value());
        }
      }
      assertThat(seen).containsAll(acknowledged);
    }
  }

  private static int leaderOf(BrokerCluster cluster, String topic, int partition) {
    for (int id : cluster.runningIds()) {
      final Broker broker = cluster.broker(id);
      final var info = broker.raft().metadata().image().topic(topic).orElseThrow();
      final ReplicatedPartition replica =
          broker.raft().partition(info.partition(partition)).orElseThrow();
      if (replica.isLeader()) {
        return id;
      }
    }
    throw new AssertionError("no leader for " + topic + "-" + partition);
  }
}
