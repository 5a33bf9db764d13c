package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.Gauge;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Leader and under-replicated counts, summed over the brokers as a dashboard does. */
class PartitionGaugesTest {
  @TempDir Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void everyPartitionCountsAsUnderReplicatedOnceAReplicaIsDown() throws Exception {
    try (BrokerCluster cluster =
        new BrokerCluster(dir, 3, Map.of("replica.lag.time.max.ms", "2000"))) {
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
        admin
            .createTopics(List.of(new NewTopic("gauged", 3, (short) 3)))
            .all()
            .get(60, TimeUnit.SECONDS);
      }
      awaitSum(cluster, "partitions.leader", 3);
      awaitSum(cluster, "partitions.under_replicated", 0);
      final int stopped = 3;
      cluster.stop(stopped);
      awaitSum(cluster, "partitions.leader", 3); // the survivors lead all three
      awaitSum(cluster, "partitions.under_replicated", 3);
      awaitSum(cluster, "partitions.offline", 0); // a voter learns the new leader a moment later
    }
  }

  private static void awaitSum(BrokerCluster cluster, String gauge, long expected)
      throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (sum(cluster, gauge) != expected) {
      assertThat(System.nanoTime())
          .as("%s summed over brokers reaches %d (is %d)", gauge, expected, sum(cluster, gauge))
          .isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  private static long sum(BrokerCluster cluster, String gauge) {
    long total = 0;
    for (int id : cluster.runningIds()) {
      final Gauge<?> g = cluster.broker(id).metrics().getGauges().get(gauge);
      total += ((Number) g.getValue()).longValue();
    }
    return total;
  }
}
