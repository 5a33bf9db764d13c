package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four real brokers of which three are the metadata voters: the fourth joins the metadata group as
 * a listener by its configuration alone, gets replicas when topics are placed, serves Metadata,
 * Produce and Fetch, and rejoins after a restart without being added twice.
 */
class MetadataListenerBrokersTest {
  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final Await AWAIT = Await.atMost(WAIT).pollingEvery(Duration.ofMillis(200));

  @TempDir Path dir;

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void aFourthBrokerListensToTheMetadataAndServesPartitionsPlacedOnIt() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 4, 3, Map.of())) {
      AWAIT.until("every broker sees broker 4 as a listener", () -> listenersSeenByAll(cluster, 4));
      for (int id : cluster.runningIds()) {
        assertThat(cluster.broker(id).raft().metadataListeners().voters())
            .as("voters as broker %d knows them", id)
            .containsExactly(1, 2, 3);
      }
      final String bootstrap4 = cluster.broker(4).bootstrapAddress();
      try (Admin admin = admin(bootstrap4)) {
        admin
            .createTopics(List.of(new NewTopic("wide", 8, (short) 3)))
            .all()
            .get(60, TimeUnit.SECONDS);
      }
      cluster.awaitTopic("wide", WAIT);
      final TopicInfo wide = cluster.broker(4).raft().metadata().image().topic("wide").get();
      final Set<Integer> placed = new HashSet<>();
      final List<Integer> onFour = new ArrayList<>();
      for (int p = 0; p < wide.partitionCount(); p++) {
        placed.addAll(wide.replicasOf(p));
        if (wide.replicasOf(p).contains(4)) {
          onFour.add(p);
        }
      }
      assertThat(placed).as("replicas placed across all four brokers").containsExactly(1, 2, 3, 4);
      for (int p : onFour) {
        final PartitionId id = wide.partition(p);
        AWAIT.until(
            "broker 4 hosts " + id, () -> cluster.broker(4).raft().partition(id).isPresent());
        cluster.moveLeadership(id, 4, WAIT);
      }

      final List<String> written = TopicValues.produce(bootstrap4, "wide", 200);
      assertThat(
              TopicValues.readCount(
                  bootstrap4, "wide", wide.partitionCount(), written.size(), WAIT))
          .containsExactlyInAnyOrderElementsOf(written);
      assertThat(cluster.broker(4).networkMetrics().zeroCopyBytes())
          .as("broker 4 served fetches from its own log")
          .isPositive();

      cluster.stop(4);
      cluster.start(4);
      AWAIT.until("broker 4 is a listener again", () -> listenersSeenByAll(cluster, 4));
      assertThat(cluster.broker(1).raft().metadataListeners().listeners())
          .as("a restart adds no second listener")
          .containsExactly(4);
      try (Admin admin = admin(cluster.bootstrap())) {
        admin
            .createTopics(List.of(new NewTopic("after", 4, (short) 3)))
            .all()
            .get(60, TimeUnit.SECONDS);
      }
      cluster.awaitTopic("after", WAIT);
      assertThat(
              TopicValues.readCount(
                  bootstrap4, "wide", wide.partitionCount(), written.size(), WAIT))
          .as("records read through the restarted listener")
          .containsExactlyInAnyOrderElementsOf(written);
    }
  }

  private static boolean listenersSeenByAll(BrokerCluster cluster, int id) {
    for (int b : cluster.runningIds()) {
      try {
        if (!cluster.broker(b).raft().metadataListeners().listeners().contains(id)) {
          return false;
        }
      } catch (java.io.IOException e) {
        return false;
      }
    }
    return true;
  }

  private static Admin admin(String bootstrap) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }
}
