package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.raft.partition.PartitionId;
import io.skiff.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.NoReassignmentInProgressException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partition reassignment with kafka-clients' Admin against real brokers: replicas move to other
 * brokers while a producer writes, the old broker drops its copy, nothing acknowledged is lost; bad
 * requests get Kafka's error codes; a cancelled move leaves the partition as it was.
 */
class ReassignmentTest {
  private static final long WAIT_S = 120;
  private static final Await AWAIT = Await.atMost(Duration.ofSeconds(WAIT_S));

  @TempDir Path dir;

  @Test
  void movesPartitionsToOtherBrokersWhileAProducerWrites() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of());
        Admin admin = admin(cluster)) {
      createTopic(admin, "moving", Map.of(0, List.of(1), 1, List.of(1, 2)));
      final ProduceLoad writer =
          ProduceLoad.start(cluster.bootstrap(), "moving", 2, Duration.ofMillis(5));
      writer.awaitAcknowledged(200, AWAIT);

      admin
          .alterPartitionReassignments(
              Map.of(
                  new TopicPartition("moving", 0), reassignTo(2),
                  new TopicPartition("moving", 1), reassignTo(2, 3)))
          .all()
          .get(WAIT_S, TimeUnit.SECONDS);
      awaitTrue(() -> reassignments(admin).isEmpty(), "the reassignments finish");
      final long acknowledgedAtCompletion = writer.acknowledgedCount();
      writer.awaitAcknowledged(acknowledgedAtCompletion + 200, AWAIT);
      writer.stop(Duration.ofSeconds(WAIT_S));
      assertThat(writer.failure()).isNull();

      clearThrottlesAsReassignToolVerifyDoes(admin, "moving", 1, 2, 3);

      final List<TopicPartitionInfo> partitions = describe(admin, "moving").partitions();
      assertThat(replicaIds(partitions.get(0))).containsExactly(2);
      assertThat(replicaIds(partitions.get(1))).containsExactly(2, 3);
      final Path oldLogs = dir.resolve("broker-1").resolve("log");
      awaitTrue(
          () ->
              !Files.exists(oldLogs.resolve("moving-0"))
                  && !Files.exists(oldLogs.resolve("moving-1")),
          "broker 1 deletes the replicas moved away");
      assertThat(cluster.broker(1).raft().partitionCount()).isZero();

      // A restart replays the metadata log, moves included; the replicas stay gone. The broker
      // reconciles the current image as soon as it has registered, well within the wait.
      cluster.stop(1);
      cluster.start(1);
      Thread.sleep(3000);
      assertThat(cluster.broker(1).raft().partitionCount()).isZero();
      assertThat(oldLogs.resolve("moving-0")).doesNotExist();

      cluster.stop(1); // what follows is served by the new replicas only
      for (int p = 0; p < 2; p++) {
        assertReadableInOrder(cluster.bootstrap(), "moving", p, writer.acknowledged(p));
      }
    }
  }

  @Test
  void refusesBadReassignmentsAndBacksOutACancelledOne() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of());
        Admin admin = admin(cluster)) {
      createTopic(admin, "stuck", Map.of(0, List.of(1)));
      final TopicPartition tp = new TopicPartition("stuck", 0);
      assertRefused(
          admin,
          new TopicPartition("nope", 0),
          reassignTo(2),
          UnknownTopicOrPartitionException.class);
      assertRefused(
          admin,
          new TopicPartition("stuck", 5),
          reassignTo(2),
          UnknownTopicOrPartitionException.class);
      assertRefused(admin, tp, reassignTo(9), InvalidReplicaAssignmentException.class);
      assertRefused(admin, tp, reassignTo(2, 2), InvalidReplicaAssignmentException.class);
      assertRefused(admin, tp, Optional.empty(), NoReassignmentInProgressException.class);

      cluster.stop(3); // the new replica cannot catch up, so the move stays under way
      admin
          .alterPartitionReassignments(Map.of(tp, reassignTo(3)))
          .all()
          .get(WAIT_S, TimeUnit.SECONDS);
      final PartitionReassignment ongoing = reassignments(admin).get(tp);
      assertThat(ongoing.replicas()).containsExactly(3, 1);
      assertThat(ongoing.addingReplicas()).containsExactly(3);
      assertThat(ongoing.removingReplicas()).containsExactly(1);
      assertThat(replicaIds(describe(admin, "stuck").partitions().get(0))).containsExactly(3, 1);
      final PartitionId id =
          cluster.broker(1).raft().metadata().image().topic("stuck").orElseThrow().partition(0);

      admin
          .alterPartitionReassignments(Map.of(tp, Optional.empty()))
          .all()
          .get(WAIT_S, TimeUnit.SECONDS);
      assertThat(reassignments(admin)).isEmpty();
      assertThat(replicaIds(describe(admin, "stuck").partitions().get(0))).containsExactly(1);
      awaitTrue(() -> listeners(cluster, id).isEmpty(), "no listener is left in the group");

      cluster.start(3);
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
        producer.send(new ProducerRecord<>("stuck", 0, null, "1")).get(WAIT_S, TimeUnit.SECONDS);
      }
      awaitTrue(
          () -> cluster.broker(3).raft().partition(id).isEmpty(),
          "broker 3, having replayed the cancelled move, hosts no replica");

      // The partition, and the driver, are free for the next move.
      admin
          .alterPartitionReassignments(Map.of(tp, reassignTo(2)))
          .all()
          .get(WAIT_S, TimeUnit.SECONDS);
      awaitTrue(() -> reassignments(admin).isEmpty(), "the next move finishes");
      assertThat(replicaIds(describe(admin, "stuck").partitions().get(0))).containsExactly(2);
      assertReadableInOrder(cluster.bootstrap(), "stuck", 0, List.of(1L));
    }
  }

  @Test
  void aNewPartitionLeaderResumesTheMove() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of());
        Admin admin = admin(cluster)) {
      createTopic(admin, "resumed", Map.of(0, List.of(1, 2)));
      final TopicPartition tp = new TopicPartition("resumed", 0);
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
        for (long i = 0; i < 50; i++) {
          producer.send(new ProducerRecord<>("resumed", 0, null, Long.toString(i)));
        }
        producer.flush();
      }
      final PartitionId id =
          cluster.broker(1).raft().metadata().image().topic("resumed").orElseThrow().partition(0);

      cluster.stop(3); // the move cannot finish while its new replica is down
      admin
          .alterPartitionReassignments(Map.of(tp, reassignTo(2, 3)))
          .all()
          .get(WAIT_S, TimeUnit.SECONDS);
      final int first = leaderOf(cluster, id);
      final int next = first == 1 ? 2 : 1;
      final long scans = driverScans(cluster, first);
      awaitTrue(() -> driverScans(cluster, first) >= scans + 2, "the first leader tries the move");
      cluster.moveLeadership(id, next, Duration.ofSeconds(WAIT_S));

      cluster.start(3);
      awaitTrue(() -> reassignments(admin).isEmpty(), "the new leader finishes the move");
      assertThat(replicaIds(describe(admin, "resumed").partitions().get(0))).containsExactly(2, 3);
      awaitTrue(
          () -> cluster.broker(1).raft().partition(id).isEmpty(), "broker 1 leaves the partition");
      cluster.stop(1);
      assertReadableInOrder(
          cluster.bootstrap(),
          "resumed",
          0,
          java.util.stream.LongStream.range(0, 50).boxed().toList());
    }
  }

  /**
   * What {@code kafka-reassign-partitions --verify} sends once every move is done: DELETE of the
   * replication throttles on each broker and topic involved. It must succeed.
   */
  private static void clearThrottlesAsReassignToolVerifyDoes(
      Admin admin, String topic, int... brokers) throws Exception {
    final Map<ConfigResource, java.util.Collection<AlterConfigOp>> ops = new java.util.HashMap<>();
    for (int broker : brokers) {
      ops.put(
          new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(broker)),
          deletes(
              "leader.replication.throttled.rate",
              "follower.replication.throttled.rate",
              "replica.alter.log.dirs.io.max.bytes.per.second"));
    }
    ops.put(
        new ConfigResource(ConfigResource.Type.TOPIC, topic),
        deletes(
            "leader.replication.throttled.replicas", "follower.replication.throttled.replicas"));
    admin.incrementalAlterConfigs(ops).all().get(WAIT_S, TimeUnit.SECONDS);
  }

  private static List<AlterConfigOp> deletes(String... names) {
    return java.util.Arrays.stream(names)
        .map(n -> new AlterConfigOp(new ConfigEntry(n, null), AlterConfigOp.OpType.DELETE))
        .toList();
  }

  private static long driverScans(BrokerCluster cluster, int broker) {
    return ((Number)
            cluster
                .broker(broker)
                .metrics()
                .getGauges()
                .get("reassignment.driver.scans")
                .getValue())
        .longValue();
  }

  private static int leaderOf(BrokerCluster cluster, PartitionId id) throws InterruptedException {
    final int[] leader = {-1};
    awaitTrue(
        () -> {
          leader[0] =
              cluster.broker(1).raft().partition(id).flatMap(p -> p.leaderNodeId()).orElse(-1);
          return leader[0] > 0;
        },
        id + " has a leader");
    return leader[0];
  }

  /**
   * Every acknowledged record of the partition is read, in the order it was written (a retried send
   * may repeat a record; its first copy is where it belongs).
   */
  private static void assertReadableInOrder(
      String bootstrap, String topic, int partition, List<Long> acknowledged) {
    final TopicPartition tp = new TopicPartition(topic, partition);
    final List<Long> firstCopies = new ArrayList<>();
    final java.util.Set<Long> seen = new java.util.HashSet<>();
    for (String value : KafkaClientsTest.readPartition(bootstrap, tp, Duration.ofSeconds(WAIT_S))) {
      if (seen.add(Long.parseLong(value))) {
        firstCopies.add(Long.parseLong(value));
      }
    }
    assertThat(firstCopies).as("%s read in write order", tp).isSorted();
    assertThat(firstCopies).as("%s holds every acknowledged record", tp).containsAll(acknowledged);
  }

  private static Admin admin(BrokerCluster cluster) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()));
  }

  private static void createTopic(Admin admin, String name, Map<Integer, List<Integer>> replicas)
      throws Exception {
    admin.createTopics(List.of(new NewTopic(name, replicas))).all().get(WAIT_S, TimeUnit.SECONDS);
    awaitTrue(
        () -> {
          try {
            return describe(admin, name).partitions().stream()
                .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
          } catch (Exception e) {
            return false;
          }
        },
        name + " has leaders");
  }

  private static TopicDescription describe(Admin admin, String name) throws Exception {
    return admin
        .describeTopics(List.of(name))
        .topicNameValues()
        .get(name)
        .get(WAIT_S, TimeUnit.SECONDS);
  }

  private static Map<TopicPartition, PartitionReassignment> reassignments(Admin admin) {
    try {
      return admin.listPartitionReassignments().reassignments().get(WAIT_S, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("listPartitionReassignments failed", e);
    }
  }

  private static Optional<NewPartitionReassignment> reassignTo(Integer... brokers) {
    return Optional.of(new NewPartitionReassignment(List.of(brokers)));
  }

  private static void assertRefused(
      Admin admin,
      TopicPartition tp,
      Optional<NewPartitionReassignment> target,
      Class<? extends Exception> error) {
    assertThatThrownBy(
            () ->
                admin
                    .alterPartitionReassignments(Map.of(tp, target))
                    .all()
                    .get(WAIT_S, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(error);
  }

  private static List<Integer> replicaIds(TopicPartitionInfo partition) {
    return partition.replicas().stream().map(Node::id).toList();
  }

  private static List<Integer> listeners(BrokerCluster cluster, PartitionId id) {
    try {
      return cluster.broker(1).raft().membership().listeners(id);
    } catch (java.io.IOException e) {
      return List.of(-1);
    }
  }

  private static void awaitTrue(BooleanSupplier condition, String what)
      throws InterruptedException {
    AWAIT.until(what, condition);
  }
}
