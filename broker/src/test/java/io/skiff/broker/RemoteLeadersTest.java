package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker that hosts no replica of a partition names its real leader in Metadata, not merely the
 * preferred replica, once it has asked the replicas: here after leadership moved away from the
 * preferred replica.
 */
class RemoteLeadersTest {
  @TempDir Path dir;

  @Test
  void aBrokerWithoutAReplicaNamesTheRealLeader() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of());
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin
          .createTopics(List.of(new NewTopic("elsewhere", Map.of(0, List.of(1, 2)))))
          .all()
          .get(60, TimeUnit.SECONDS);
      final var topic = awaitTopic(cluster.broker(1), "elsewhere");
      final var id = topic.partition(0);
      awaitTrue(
          () ->
              cluster.broker(1).raft().partition(id).map(p -> p.isLeaderReady()).orElse(false)
                  || cluster
                      .broker(2)
                      .raft()
                      .partition(id)
                      .map(p -> p.isLeaderReady())
                      .orElse(false),
          "a leader for elsewhere-0");
      final int from =
          cluster.broker(1).raft().partition(id).flatMap(p -> p.leaderNodeId()).orElseThrow();
      final int to = 2; // not the preferred replica, which broker 3 would name without asking
      if (from != to) {
        cluster.broker(from).raft().membership().transferLeadership(id, to, Duration.ofSeconds(30));
      }

      try (RawKafkaClient broker3 = new RawKafkaClient(cluster.broker(3).kafkaPort())) {
        awaitTrue(
            () -> leaderSeenBy(broker3).orElse(-1) == to,
            "broker 3 names node " + to + " as the leader of elsewhere-0");
      }
    }
  }

  /**
   * While a partition's only replica is down, a broker asked for its leader many times a second
   * asks the replica at most about once a second, not once per request (each lookup connects to the
   * down broker).
   */
  @Test
  void aPartitionWithoutALeaderIsNotLookedUpOnEveryRequest() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of());
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin
          .createTopics(List.of(new NewTopic("elsewhere", Map.of(0, List.of(1)))))
          .all()
          .get(60, TimeUnit.SECONDS);
      awaitTopic(cluster.broker(3), "elsewhere");
      cluster.stop(1);
      try (RawKafkaClient broker3 = new RawKafkaClient(cluster.broker(3).kafkaPort())) {
        leaderSeenBy(broker3); // the first lookup
        Thread.sleep(500);
        final long before = cluster.broker(3).remoteLeaders().lookups();
        final long start = System.nanoTime();
        int requests = 0;
        while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3)) {
          leaderSeenBy(broker3);
          requests++;
        }
        final long lookups = cluster.broker(3).remoteLeaders().lookups() - before;
        assertThat(requests).as("Metadata requests in 3 s").isGreaterThan(30);
        assertThat(lookups).as("lookups of the leaderless partition in 3 s").isBetween(1L, 6L);
      }
    }
  }

  private static Optional<Integer> leaderSeenBy(RawKafkaClient client) {
    try {
      return Optional.of(
          client.metadata("elsewhere").topics().find("elsewhere").partitions().get(0).leaderId());
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  private static io.skiff.raft.metadata.TopicInfo awaitTopic(Broker broker, String name)
      throws InterruptedException {
    awaitTrue(() -> broker.raft().metadata().image().topic(name).isPresent(), "topic " + name);
    return broker.raft().metadata().image().topic(name).orElseThrow();
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    Await.atMost(Duration.ofSeconds(60)).until(what, condition);
  }
}
