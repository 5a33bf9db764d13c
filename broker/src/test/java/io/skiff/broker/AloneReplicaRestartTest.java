package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restarted broker's groups that have it as their only voter (one-replica partitions, and here
 * the metadata group of a one-broker cluster) elect it at once, not after their election timeout
 * (30 to 60 s by default, kept here): nobody else can be their leader.
 */
class AloneReplicaRestartTest {
  private static final String TOPIC = "alone";
  private static final int PARTITIONS = 4;

  /** Well below the default election timeout's lower bound (30 s). */
  private static final Duration SERVING_BOUND = Duration.ofSeconds(15);

  @TempDir Path dir;

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aRestartedBrokerLeadsItsOneReplicaGroupsAtOnce() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 1, Map.of())) {
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
        admin
            .createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1)))
            .all()
            .get(1, TimeUnit.MINUTES);
      }
      cluster.awaitLeaders(TOPIC, Duration.ofMinutes(1));
      produceToEveryPartition(cluster);

      final long restarted = System.nanoTime();
      cluster.restart(1); // returns once the broker serves its metadata: a group of its own too
      cluster.awaitLeaders(TOPIC, SERVING_BOUND);
      final Duration took = Duration.ofNanos(System.nanoTime() - restarted);
      System.out.printf(
          "AloneReplicaRestartTest: every partition led %d ms after the restart began%n",
          took.toMillis());
      assertThat(took).as("restart until every partition is led").isLessThan(SERVING_BOUND);
      produceToEveryPartition(cluster);
    }
  }

  private static void produceToEveryPartition(BrokerCluster cluster) throws Exception {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
      for (int partition = 0; partition < PARTITIONS; partition++) {
        assertThat(
                producer
                    .send(new ProducerRecord<>(TOPIC, partition, null, "v"))
                    .get(1, TimeUnit.MINUTES)
                    .hasOffset())
            .isTrue();
      }
    }
  }
}
