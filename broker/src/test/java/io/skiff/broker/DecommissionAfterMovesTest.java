package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.metadata.BrokerState;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import io.skiff.testing.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
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
 * The five-broker chaos run's replica moves and decommissions, in one JVM: three metadata voters
 * and two metadata listeners, a topic of three partitions with three replicas under produce load,
 * and, several rounds over, a move of one random replica of partition 0 (leader as likely as not)
 * to a broker that holds none, as {@code skiff partition move --replicas} asks for it ({@code
 * AlterPartitionReassignments}); a move back the moment the first is recorded done, so that the
 * broker just left gets the partition again while it may still hold the replica that left (as a
 * drain does when it picks the least loaded broker); then a decommission of partition 0's leader
 * (the admin API that {@code skiff broker decommission} calls), waited for and recommissioned, as
 * the chaos run's nemeses do. Every move and every drain must finish within {@link #WAIT}; {@link
 * GroupTimeline} logs what each broker did with its replica of partition 0 along the way, and a
 * step that times out reports every broker's view of the group.
 */
class DecommissionAfterMovesTest {
  private static final Logger LOG = LoggerFactory.getLogger(DecommissionAfterMovesTest.class);
  private static final Duration WAIT = Duration.ofSeconds(45);
  private static final String TOPIC = "decom";
  private static final int PARTITIONS = 3;
  private static final int BROKERS = 5;
  private static final int ROUNDS = 3;

  @TempDir Path dir;

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void theLeaderOfAPartitionJustMovedDrainsCompletely() throws Exception {
    try (BrokerCluster cluster =
            new BrokerCluster(
                dir,
                BROKERS,
                3,
                Map.of(
                    "auto.leader.rebalance.enable", "true",
                    "leader.imbalance.check.interval.seconds", "2"));
        Admin admin = admin(cluster)) {
      admin
          .createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
          .all()
          .get(60, TimeUnit.SECONDS);
      cluster.awaitTopic(TOPIC, WAIT);
      final Random random = new Random(22);
      final List<String> steps = new ArrayList<>();
      try (ProduceLoad load =
              ProduceLoad.start(cluster.bootstrap(), TOPIC, PARTITIONS, Duration.ofMillis(20));
          GroupTimeline timeline = new GroupTimeline(cluster, () -> image(cluster), TOPIC, 0)) {
        load.awaitAcknowledged(100, Await.atMost(WAIT).pollingEvery(Duration.ofMillis(5)));
        for (int round = 0; round < ROUNDS; round++) {
          final List<Integer> before = topic(cluster).replicasOf(0);
          steps.add(move(cluster, admin, random, timeline));
          steps.add(moveBack(cluster, admin, before, timeline));
          steps.add(decommissionLeader(cluster, timeline));
        }
        LOG.info("Steps: {}", steps);
        assertThat(load.failure()).isNull();
      }
    }
  }

  /** Moves one random replica of partition 0 to a broker that holds none; waits until done. */
  private static String move(
      BrokerCluster cluster, Admin admin, Random random, GroupTimeline timeline) throws Exception {
    final List<Integer> replicas = new ArrayList<>(topic(cluster).replicasOf(0));
    final List<Integer> spare = new ArrayList<>();
    for (int id = 1; id <= BROKERS; id++) {
      if (!replicas.contains(id) && image(cluster).broker(id).map(b -> b.active()).orElse(false)) {
        spare.add(id);
      }
    }
    final int slot = random.nextInt(replicas.size());
    final int from = replicas.get(slot);
    final int to = spare.get(random.nextInt(spare.size()));
    replicas.set(slot, to);
    final String step = "move " + from + "->" + to + " " + replicas;
    return reassign(cluster, admin, step, replicas, timeline);
  }

  /**
   * Moves partition 0 back to {@code replicas} the moment the previous move is recorded done: the
   * broker it left gets the partition again while it may still hold the replica that left (a drain
   * that picks the least loaded broker does the same).
   */
  private static String moveBack(
      BrokerCluster cluster, Admin admin, List<Integer> replicas, GroupTimeline timeline)
      throws Exception {
    final String step = "move back to " + replicas + " from " + topic(cluster).replicasOf(0);
    return reassign(cluster, admin, step, replicas, timeline);
  }

  /** Reassigns partition 0 to {@code replicas} as {@code step}; waits until the move is done. */
  private static String reassign(
      BrokerCluster cluster,
      Admin admin,
      String step,
      List<Integer> replicas,
      GroupTimeline timeline)
      throws Exception {
    LOG.info("Step: {} (leader {})", step, leaderOf(cluster, 0));
    final long start = System.nanoTime();
    admin
        .alterPartitionReassignments(
            Map.of(
                new TopicPartition(TOPIC, 0), Optional.of(new NewPartitionReassignment(replicas))))
        .all()
        .get(60, TimeUnit.SECONDS);
    await(step, () -> topic(cluster).reassignmentOf(0).isEmpty(), timeline);
    return step + " in " + millisSince(start) + " ms";
  }

  /** Decommissions partition 0's leader, waits until it is drained, then recommissions it. */
  private static String decommissionLeader(BrokerCluster cluster, GroupTimeline timeline)
      throws Exception {
    final int leader = leaderOf(cluster, 0);
    final String step =
        "decommission of leader " + leader + " (" + partitionsOn(cluster, leader) + " partitions)";
    LOG.info("Step: {}", step);
    final long start = System.nanoTime();
    assertThat(post(cluster, leader, "decommission").statusCode()).isEqualTo(200);
    await(
        step,
        () ->
            image(cluster)
                .broker(leader)
                .map(b -> b.state() == BrokerState.DECOMMISSIONED)
                .orElse(false),
        timeline);
    final long drained = millisSince(start);
    assertThat(post(cluster, leader, "recommission").statusCode()).isEqualTo(200);
    return step + " in " + drained + " ms";
  }

  private static int leaderOf(BrokerCluster cluster, int partition) throws InterruptedException {
    final PartitionId id = topic(cluster).partition(partition);
    final int[] leader = {-1};
    await(
        "a leader of " + id,
        () -> {
          for (int b : cluster.runningIds()) {
            if (cluster
                .broker(b)
                .raft()
                .partition(id)
                .map(ReplicatedPartition::isLeaderReady)
                .orElse(false)) {
              leader[0] = b;
              return true;
            }
          }
          return false;
        },
        null);
    return leader[0];
  }

  private static int partitionsOn(BrokerCluster cluster, int broker) {
    int count = 0;
    final TopicInfo topic = topic(cluster);
    for (int p = 0; p < topic.partitionCount(); p++) {
      count += topic.allReplicasOf(p).contains(broker) ? 1 : 0;
    }
    return count;
  }

  private static TopicInfo topic(BrokerCluster cluster) {
    return image(cluster).topic(TOPIC).orElseThrow();
  }

  private static MetadataImage image(BrokerCluster cluster) {
    return cluster.broker(1).raft().metadata().image();
  }

  private static HttpResponse<String> post(BrokerCluster cluster, int id, String action)
      throws Exception {
    final int via = id == 1 ? 2 : 1;
    final HttpRequest request =
        HttpRequest.newBuilder(
                URI.create("http://" + cluster.admin(via) + "/v1/brokers/" + id + "/" + action))
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build();
    return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static long millisSince(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  private static void await(String what, BooleanSupplier condition, GroupTimeline timeline)
      throws InterruptedException {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out waiting for: "
                + what
                + (timeline == null ? "" : "\npartition 0 now:\n" + timeline.describe()));
      }
      Thread.sleep(5);
    }
  }

  private static Admin admin(BrokerCluster cluster) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()));
  }
}
