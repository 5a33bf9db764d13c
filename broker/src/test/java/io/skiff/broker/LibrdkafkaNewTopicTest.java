package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * librdkafka (through confluent-kafka-python) producing to topics it created the moment before, on
 * a 3-broker cluster: every message must be delivered although the partitions' Raft groups are
 * still electing their first leaders when the first Produce and Metadata requests arrive. Skips
 * with a clear message where no Python has the module.
 */
class LibrdkafkaNewTopicTest {
  private static final Path SCRIPT =
      Path.of("src/test/compat/python/fresh_topics.py").toAbsolutePath();
  private static final int TOPICS = 6;
  private static final int PARTITIONS = 4;

  @TempDir Path dir;

  @Test
  void producesToTopicsCreatedJustBeforeWithOneReplica() throws Exception {
    producesToFreshTopics(1);
  }

  @Test
  void producesToTopicsCreatedJustBeforeWithThreeReplicas() throws Exception {
    producesToFreshTopics(3);
  }

  private void producesToFreshTopics(int replicationFactor) throws Exception {
    final String python = ConfluentKafkaPython.interpreterOrSkip("librdkafka new-topic checks");
    // As ./skiff dev runs: min.insync.replicas=2, which Kafka caps at a partition's replica count.
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of("min.insync.replicas", "2"))) {
      final String out =
          ExternalCommand.of(
                  python,
                  SCRIPT.toString(),
                  cluster.bootstrap(),
                  "fresh-rf" + replicationFactor,
                  Integer.toString(TOPICS),
                  Integer.toString(PARTITIONS),
                  Integer.toString(replicationFactor))
              .timeout(Duration.ofMinutes(4))
              .run();
      assertThat(out.strip())
          .isEqualTo(
              "{\"topics\": "
                  + TOPICS
                  + ", \"delivered\": "
                  + TOPICS * PARTITIONS
                  + ", \"undelivered\": 0, \"failures\": []}");
    }
  }
}
