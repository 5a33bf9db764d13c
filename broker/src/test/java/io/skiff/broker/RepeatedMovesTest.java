package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.testing.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replica moves one after another and a decommission, on four real brokers under produce load, as
 * the replica-move chaos run makes them: every broker that a move or a drain names must start its
 * new replica within seconds of the metadata assigning it, not when some later metadata change
 * happens to wake it.
 */
class RepeatedMovesTest {
  private static final Logger LOG = LoggerFactory.getLogger(RepeatedMovesTest.class);
  private static final Duration WAIT = Duration.ofSeconds(180);
  private static final Duration START_WITHIN = Duration.ofSeconds(30);
  private static final String TOPIC = "moves";
  private static final int PARTITIONS = 4;

  @TempDir Path dir;

  @Test
  @Timeout(value = 12, unit = TimeUnit.MINUTES)
  void everyBrokerAMoveOrADrainNamesStartsItsReplicaPromptly() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 4, 3, Map.of());
        Admin admin = admin(cluster)) {
      admin
          .createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
          .all()
          .get(60, TimeUnit.SECONDS);
      cluster.awaitTopic(TOPIC, WAIT);
      try (ProduceLoad load =
          ProduceLoad.start(cluster.bootstrap(), TOPIC, PARTITIONS, Duration.ofMillis(20))) {
        load.awaitAcknowledged(100, Await.atMost(WAIT).pollingEvery(Duration.ofMillis(50)));
        final List<Long> startMillis = new ArrayList<>();
        for (int move = 0; move < 6; move++) {
          final int partition = move % PARTITIONS;
          final List<Integer> replicas = topic(cluster).replicasOf(partition);
          final int leaving = replicas.get(move % replicas.size());
          final int joining = notIn(replicas);
          final List<Integer> target = new ArrayList<>(replicas);
          target.set(target.indexOf(leaving), joining);
          final long moveStart = System.nanoTime();
          admin
              .alterPartitionReassignments(
                  Map.of(
                      new TopicPartition(TOPIC, partition),
                      Optional.of(new NewPartitionReassignment(target))))
              .all()
              .get(60, TimeUnit.SECONDS);
          startMillis.add(awaitStarted(cluster, partition, joining, moveStart));
          await("the move of partition " + partition + " finishes", () -> settled(cluster));
        }
        final int drained = topic(cluster).replicasOf(0).get(0);
        final Map<Integer, Integer> joinerOf = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
          final List<Integer> replicas = topic(cluster).replicasOf(p);
          if (replicas.contains(drained)) {
            joinerOf.put(p, notIn(replicas));
          }
        }
        final long drainStart = System.nanoTime();
        final HttpResponse<String> started = decommission(cluster, drained);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(200);
        for (Map.Entry<Integer, Integer> e : joinerOf.entrySet()) {
          startMillis.add(awaitStarted(cluster, e.getKey(), e.getValue(), drainStart));
        }
        await(
            "broker " + drained + " drained",
            () -> image(cluster).broker(drained).map(b -> !b.active()).orElse(false));
        final long drainMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - drainStart);
        LOG.info(
            "Replica starts after each move, then the drain's (ms): {}; broker {} drained in {} ms",
            startMillis,
            drained,
            drainMillis);
        assertThat(startMillis).allMatch(ms -> ms < START_WITHIN.toMillis());
        assertThat(load.failure()).isNull();
      }
    }
  }

  /** Waits until broker {@code joining} hosts a replica of the partition; returns how long. */
  private static long awaitStarted(BrokerCluster cluster, int partition, int joining, long start)
      throws InterruptedException {
    final PartitionId id = topic(cluster).partition(partition);
    await(
        "broker " + joining + " starts its replica of " + id,
        () -> cluster.broker(joining).raft().partition(id).isPresent());
    final long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    LOG.info("Broker {} started its replica of {} {} ms after the move", joining, id, ms);
    return ms;
  }

  private static boolean settled(BrokerCluster cluster) {
    final TopicInfo topic = topic(cluster);
    for (int p = 0; p < topic.partitionCount(); p++) {
      if (topic.reassignmentOf(p).isPresent()) {
        return false;
      }
    }
    return true;
  }

  private static int notIn(List<Integer> replicas) {
    for (int id = 1; id <= 4; id++) {
      if (!replicas.contains(id)) {
        return id;
      }
    }
    throw new IllegalStateException("every broker holds " + replicas);
  }

  private static TopicInfo topic(BrokerCluster cluster) {
    return image(cluster).topic(TOPIC).orElseThrow();
  }

  private static MetadataImage image(BrokerCluster cluster) {
    return cluster.broker(1).raft().metadata().image();
  }

  private static HttpResponse<String> decommission(BrokerCluster cluster, int id) throws Exception {
    final int via = id == 1 ? 2 : 1;
    final HttpRequest request =
        HttpRequest.newBuilder(
                URI.create("http://" + cluster.admin(via) + "/v1/brokers/" + id + "/decommission"))
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build();
    return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(50);
    }
  }

  private static Admin admin(BrokerCluster cluster) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()));
  }
}
