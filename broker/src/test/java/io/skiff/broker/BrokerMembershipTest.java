package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.ReplicatedPartition;
import io.skiff.testing.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broker maintenance and decommission through the admin HTTP API ({@link BrokerMembershipApi}), on
 * a real 3-broker cluster: maintenance moves a broker's leaderships away and back; a decommission
 * moves every replica off the broker, keeps the records, and is refused when the other brokers
 * cannot hold the replication factor.
 */
class BrokerMembershipTest {
  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final Await AWAIT = Await.atMost(WAIT).pollingEvery(Duration.ofMillis(200));
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path dir;

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void maintenanceMovesLeadershipsAwayAndBack() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of());
        Admin admin = admin(cluster)) {
      final Map<Integer, List<Integer>> assignment =
          Map.of(0, List.of(1, 2, 3), 1, List.of(2, 3, 1), 2, List.of(3, 1, 2));
      admin.createTopics(List.of(new NewTopic("m", assignment))).all().get(60, TimeUnit.SECONDS);
      final TopicInfo topic = awaitTopic(cluster, "m");
      cluster.moveLeadership(topic.partition(1), 2, WAIT);

      final HttpResponse<String> on = post(cluster, 1, "/v1/brokers/2/maintenance/on");
      assertThat(on.statusCode()).as(on.body()).isEqualTo(200);
      assertThat(on.body()).contains("\"state\":\"maintenance\"");
      AWAIT.until("broker 2 leads nothing", () -> leaderships(cluster, 2) == 0);
      assertThat(get(cluster, 3, "/v1/brokers")).contains("\"id\":2", "\"state\":\"maintenance\"");
      Thread.sleep(3_000); // an election or a stray transfer would show up here
      assertThat(leaderships(cluster, 2)).isZero();

      final HttpResponse<String> off = post(cluster, 3, "/v1/brokers/2/maintenance/off");
      assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
      AWAIT.until(
          "broker 2 leads its preferred partition again", () -> leads(cluster, 2, topic, 1));
    }
  }

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void decommissionMovesEveryReplicaOffAndKeepsTheRecords() throws Exception {
    final Map<String, String> rf2 =
        Map.of("default.replication.factor", "2", "offsets.topic.replication.factor", "2");
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, rf2);
        Admin admin = admin(cluster)) {
      admin
          .createTopics(List.of(new NewTopic("wide", 1, (short) 3)))
          .all()
          .get(60, TimeUnit.SECONDS);
      final HttpResponse<String> refused = post(cluster, 1, "/v1/brokers/3/decommission");
      assertThat(refused.statusCode()).isEqualTo(409);
      assertThat(refused.body()).contains("replication factor 3", "only 2 other brokers");
      admin.deleteTopics(List.of("wide")).all().get(60, TimeUnit.SECONDS);
      assertThat(post(cluster, 1, "/v1/brokers/9/decommission").statusCode()).isEqualTo(404);

      admin.createTopics(List.of(new NewTopic("d", 6, (short) 2))).all().get(60, TimeUnit.SECONDS);
      awaitTopic(cluster, "d");
      final List<String> written = TopicValues.produce(cluster.bootstrap(), "d", 60);

      final HttpResponse<String> started = post(cluster, 2, "/v1/brokers/3/decommission");
      assertThat(started.statusCode()).as(started.body()).isEqualTo(200);
      AWAIT.until(
          "broker 3 decommissioned",
          () -> image(cluster).broker(3).map(b -> !b.active()).orElse(false));
      final TopicInfo moved = image(cluster).topic("d").orElseThrow();
      for (int p = 0; p < moved.partitionCount(); p++) {
        assertThat(moved.replicasOf(p)).as("replicas of d-%d", p).doesNotContain(3).hasSize(2);
      }
      assertThat(get(cluster, 1, "/v1/brokers"))
          .contains("\"state\":\"decommissioned\",\"replicas\":0");
      AWAIT.until(
          "broker 3 holds no replica of d",
          () ->
              cluster.broker(3).raft().partitions().stream()
                  .noneMatch(r -> r.id().topic().equals("d")));
      assertThat(
              TopicValues.readCount(
                  cluster.bootstrap(), "d", moved.partitionCount(), written.size(), WAIT))
          .containsExactlyInAnyOrderElementsOf(written);

      final HttpResponse<String> back = post(cluster, 1, "/v1/brokers/3/recommission");
      assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
      assertThat(back.body()).contains("\"state\":\"active\"");
    }
  }

  private static int leaderships(BrokerCluster cluster, int id) {
    return (int)
        cluster.broker(id).raft().partitions().stream()
            .filter(ReplicatedPartition::isLeader)
            .count();
  }

  private static boolean leads(BrokerCluster cluster, int id, TopicInfo topic, int partition) {
    return cluster
        .broker(id)
        .raft()
        .partition(topic.partition(partition))
        .map(ReplicatedPartition::isLeader)
        .orElse(false);
  }

  private static MetadataImage image(BrokerCluster cluster) {
    return cluster.broker(1).raft().metadata().image();
  }

  private static TopicInfo awaitTopic(BrokerCluster cluster, String name) throws Exception {
    AWAIT.until("topic " + name + " in the metadata", () -> image(cluster).topic(name).isPresent());
    final TopicInfo topic = image(cluster).topic(name).orElseThrow();
    for (int p = 0; p < topic.partitionCount(); p++) {
      final int partition = p;
      AWAIT.until(
          name + "-" + p + " has a leader",
          () -> cluster.runningIds().stream().anyMatch(id -> leads(cluster, id, topic, partition)));
    }
    return topic;
  }

  private static HttpResponse<String> post(BrokerCluster cluster, int via, String path)
      throws Exception {
    final HttpRequest request =
        HttpRequest.newBuilder(uri(cluster, via, path))
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static String get(BrokerCluster cluster, int via, String path) {
    try {
      final HttpRequest request =
          HttpRequest.newBuilder(uri(cluster, via, path)).timeout(Duration.ofSeconds(30)).build();
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static URI uri(BrokerCluster cluster, int via, String path) {
    return URI.create("http://127.0.0.1:" + cluster.broker(via).adminPort() + path);
  }

  private static Admin admin(BrokerCluster cluster) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()));
  }
}
