package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.log.TestBatches;
import io.skiff.raft.membership.PartitionReconciler;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataException;
import io.skiff.raft.metadata.MetadataService;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metadata group: three voters and a listener, placement, refusals, failover, restart. */
class MetadataGroupTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private static void startMetadata(RaftCluster cluster, int... ids) throws Exception {
    for (int id : ids) {
      cluster.node(id).startMetadata(cluster.peers(1, 2, 3), cluster.peers(4));
    }
  }

  private static void registerAll(RaftCluster cluster) throws Exception {
    for (int id : cluster.runningIds()) {
      final RaftNode node = cluster.node(id);
      node.metadata()
          .registerBroker(
              new BrokerInfo(id, "127.0.0.1", 9000 + id, node.config().port(), "", true))
          .get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void placesTopicsRefusesBadChangesAndSurvivesFailover() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 4, c -> c)) {
      startMetadata(cluster, 1, 2, 3, 4);
      registerAll(cluster);
      final MetadataService listener = cluster.node(4).metadata();

      final TopicInfo orders =
          listener
              .createTopic("orders", 8, 3, Map.of("retention.ms", "1000"))
              .get(30, TimeUnit.SECONDS);
      assertThat(orders.partitionCount()).isEqualTo(8);
      final Map<Integer, Integer> leaders = new java.util.HashMap<>();
      for (int p = 0; p < 8; p++) {
        final List<Integer> replicas = orders.replicasOf(p);
        assertThat(replicas).hasSize(3).doesNotHaveDuplicates();
        leaders.merge(replicas.get(0), 1, Integer::sum);
      }
      assertThat(leaders.values()).allMatch(n -> n == 2); // 8 partitions over 4 brokers
      // Node 1 applies the change when it learns of the commit, possibly after node 4 did.
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (cluster.node(1).metadata().image().topic("orders").isEmpty()
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(cluster.node(1).metadata().image().topic("orders")).contains(orders);

      assertThatThrownBy(
              () -> listener.createTopic("orders", 1, 1, Map.of()).get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(MetadataException.class)
          .satisfies(
              e ->
                  assertThat(((MetadataException) e).error())
                      .isEqualTo(MetadataException.Error.TOPIC_ALREADY_EXISTS));
      assertThatThrownBy(
              () -> listener.createTopic("wide", 1, 5, Map.of()).get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(MetadataException.class)
          .hasMessageContaining("replication factor 5");
      assertThatThrownBy(
              () -> listener.createTopic("bad/name", 1, 1, Map.of()).get(30, TimeUnit.SECONDS))
          .hasMessageContaining("invalid topic name");

      final Set<Long> ids = new HashSet<>();
      for (int i = 0; i < 5; i++) {
        final long first =
            cluster.node(1 + i % 4).metadata().allocateProducerIds(1000).get(30, TimeUnit.SECONDS);
        for (long id = first; id < first + 1000; id++) {
          assertThat(ids.add(id)).isTrue();
        }
      }

      final int metadataLeader = metadataLeader(cluster);
      cluster.stop(metadataLeader);
      final int survivor = metadataLeader == 1 ? 2 : 1;
      cluster.node(survivor).metadata().createPartitions("orders", 12).get(30, TimeUnit.SECONDS);
      cluster
          .node(survivor)
          .metadata()
          .setTopicConfigs("orders", Map.of("retention.ms", "5000"))
          .get(30, TimeUnit.SECONDS);

      cluster.start(metadataLeader);
      startMetadata(cluster, metadataLeader);
      awaitPartitions(cluster.node(metadataLeader).metadata(), "orders", 12);
      // The config change came after the new partitions: wait until it is applied too.
      final TopicInfo reloaded =
          awaitTopic(
              cluster.node(metadataLeader).metadata(),
              "orders",
              t -> "5000".equals(t.configs().get("retention.ms")),
              "retention.ms=5000");
      assertThat(reloaded.configs()).containsEntry("retention.ms", "5000");
      assertThat(reloaded.id()).isEqualTo(orders.id());
    }
  }

  @Test
  void brokersHostTheReplicasAssignedToThem() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 4, c -> c)) {
      startMetadata(cluster, 1, 2, 3, 4);
      registerAll(cluster);
      for (int id : cluster.runningIds()) {
        final RaftNode node = cluster.node(id);
        node.metadata().addListener(new PartitionReconciler(node));
      }
      final TopicInfo events =
          cluster
              .node(2)
              .metadata()
              .createTopic("events", 4, 3, Map.of())
              .get(30, TimeUnit.SECONDS);
      for (int p = 0; p < 4; p++) {
        final PartitionId id = events.partition(p);
        final ReplicatedPartition leader = cluster.leader(id, WAIT);
        assertThat(events.replicasOf(p)).contains(leader.leaderNodeId().orElseThrow());
        leader.append(TestBatches.batch(0, 2, 10, 0), Acks.ALL).get(30, TimeUnit.SECONDS);
      }
      cluster.node(3).metadata().deleteTopic("events").get(30, TimeUnit.SECONDS);
      final long deadline = System.nanoTime() + WAIT.toNanos();
      while (cluster.runningIds().stream().anyMatch(n -> cluster.node(n).partitionCount() > 0)) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.sleep(50);
      }
    }
  }

  private static int metadataLeader(RaftCluster cluster) throws Exception {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      for (int id : cluster.runningIds()) {
        if (cluster.node(id).server().getDivision(RaftNode.METADATA_GROUP).getInfo().isLeader()) {
          return id;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no metadata leader");
  }

  private static TopicInfo awaitTopic(
      MetadataService metadata,
      String topic,
      java.util.function.Predicate<TopicInfo> condition,
      String what)
      throws InterruptedException {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      final var t = metadata.image().topic(topic);
      if (t.isPresent() && condition.test(t.get())) {
        return t.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError(topic + " never got " + what);
  }

  private static TopicInfo awaitPartitions(MetadataService metadata, String topic, int count)
      throws InterruptedException {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      final var t = metadata.image().topic(topic);
      if (t.isPresent() && t.get().partitionCount() == count) {
        return t.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError(topic + " never reached " + count + " partitions");
  }
}
