package io.skiff.cli.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.broker.BrokerCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The workload's topic creation against three real brokers in this JVM. */
class QueueWorkloadTest {
  @TempDir Path dir;

  /**
   * With two of three brokers down the metadata group has no majority, so a creation request times
   * out (the workload's request timeout is 5 s); the workload asks again until the brokers are back
   * instead of giving up at the first timeout.
   */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void createsItsTopicOnceTheMetadataQuorumIsBack() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of())) {
      final WorkloadConfig config = WorkloadConfig.durable(cluster.bootstrap(), "queue");
      cluster.stop(2);
      cluster.stop(3);
      final QueueWorkload workload = new QueueWorkload(config, new History());
      final CompletableFuture<Void> created =
          CompletableFuture.runAsync(
              () -> {
                try {
                  workload.createTopic(Duration.ofSeconds(120));
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });

      Thread.sleep(config.requestTimeout().toMillis() * 2); // at least one request timed out
      assertThat(created).as("no majority, no topic").isNotDone();
      cluster.start(2);
      cluster.start(3);
      created.get(2, TimeUnit.MINUTES);

      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
        final TopicDescription topic =
            admin.describeTopics(List.of("queue")).allTopicNames().get().get("queue");
        // Leaders were awaited by createTopic; another broker, asked now, may not know each yet.
        assertThat(topic.partitions()).hasSize(config.partitions());
        assertThat(topic.partitions()).allMatch(p -> p.replicas().size() == 3);
      }
    }
  }
}
