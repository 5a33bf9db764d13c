package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import io.skiff.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreatePartitionsOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin APIs through the real kafka-clients Admin against three real brokers. */
class AdminApisTest {
  private static final long WAIT_S = 60;

  @TempDir static Path dir;

  private static BrokerCluster cluster;
  private static Admin admin;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster =
        new BrokerCluster(dir, 3, Map.of("log.segment.bytes", "1048576", "broker.rack", "rack-a"));
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()));
  }

  @AfterAll
  static void stopCluster() {
    if (admin != null) {
      admin.close(Duration.ofSeconds(10));
    }
    cluster.close();
  }

  @Test
  void everyBrokerExportsItsMetricsOverJmx() throws Exception {
    final javax.management.MBeanServer server =
        java.lang.management.ManagementFactory.getPlatformMBeanServer();
    for (int id : cluster.runningIds()) {
      final var names =
          server.queryNames(new javax.management.ObjectName("io.skiff.broker-" + id + ":*"), null);
      assertThat(names)
          .extracting(n -> n.getKeyProperty("name"))
          .contains("page.cache.hit.ratio", "process.resident.memory.bytes", "raft.partitions");
    }
  }

  @Test
  void describeClusterListsEveryBrokerWithItsRack() throws Exception {
    final DescribeClusterResult described = admin.describeCluster();
    assertThat(described.nodes().get(WAIT_S, TimeUnit.SECONDS))
        .extracting(Node::id, Node::rack)
        .containsExactlyInAnyOrder(tuple(1, "rack-a"), tuple(2, "rack-a"), tuple(3, "rack-a"));
    assertThat(described.clusterId().get(WAIT_S, TimeUnit.SECONDS)).isEqualTo("skiff-cluster");
    assertThat(described.controller().get(WAIT_S, TimeUnit.SECONDS).id()).isIn(1, 2, 3);
    assertThat(described.authorizedOperations().get(WAIT_S, TimeUnit.SECONDS)).isNull();
  }

  @Test
  void createPartitionsGrowsATopicAndRefusesShrinking() throws Exception {
    createTopic(new NewTopic("grow", 2, (short) 3));
    admin
        .createPartitions(
            Map.of("grow", NewPartitions.increaseTo(4)),
            new CreatePartitionsOptions().validateOnly(true))
        .all()
        .get(WAIT_S, TimeUnit.SECONDS);
    assertThat(topicEverywhere("grow").partitionCount()).isEqualTo(2);

    admin
        .createPartitions(Map.of("grow", NewPartitions.increaseTo(4)))
        .all()
        .get(WAIT_S, TimeUnit.SECONDS);
    awaitPartitionCount("grow", 4);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
      assertThat(
              producer
                  .send(new ProducerRecord<>("grow", 3, "k", "v"))
                  .get(WAIT_S, TimeUnit.SECONDS)
                  .partition())
          .isEqualTo(3);
    }

    assertGrowRefused("grow", NewPartitions.increaseTo(4), InvalidPartitionsException.class);
    assertGrowRefused("grow", NewPartitions.increaseTo(3), InvalidPartitionsException.class);
    assertGrowRefused(
        "nowhere", NewPartitions.increaseTo(3), UnknownTopicOrPartitionException.class);
    assertGrowRefused(
        "grow",
        NewPartitions.increaseTo(5, List.of(List.of(1, 2, 3))),
        InvalidRequestException.class);
  }

  @Test
  void describeConfigsShowsOverridesBrokerSettingsAndDefaults() throws Exception {
    createTopic(new NewTopic("described", 1, (short) 3).configs(Map.of("retention.ms", "1234")));
    topicEverywhere("described");
    final ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "described");
    final Config config =
        admin
            .describeConfigs(List.of(topic), new DescribeConfigsOptions().includeSynonyms(true))
            .all()
            .get(WAIT_S, TimeUnit.SECONDS)
            .get(topic);
    assertEntry(config, "retention.ms", "1234", ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
    assertThat(config.get("retention.ms").synonyms())
        .extracting(ConfigEntry.ConfigSynonym::name)
        .containsExactly("retention.ms", "log.retention.ms");
    assertEntry(config, "cleanup.policy", "delete", ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    assertEntry(config, "segment.bytes", "1048576", ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG);
    assertEntry(
        config, "message.timestamp.type", "CreateTime", ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    assertEntry(config, "min.insync.replicas", "1", ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    assertEntry(config, "max.message.bytes", "1048588", ConfigEntry.ConfigSource.DEFAULT_CONFIG);

    final ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "2");
    final Config brokerConfig =
        admin.describeConfigs(List.of(broker)).all().get(WAIT_S, TimeUnit.SECONDS).get(broker);
    assertEntry(brokerConfig, "node.id", "2", ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG);
    assertEntry(
        brokerConfig,
        "log.segment.bytes",
        "1048576",
        ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG);
    assertEntry(brokerConfig, "num.partitions", "1", ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    assertThat(brokerConfig.entries()).allSatisfy(e -> assertThat(e.isReadOnly()).isTrue());

    final ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, "nowhere");
    assertThatThrownBy(
            () -> admin.describeConfigs(List.of(missing)).all().get(WAIT_S, TimeUnit.SECONDS))
        .hasCauseInstanceOf(UnknownTopicOrPartitionException.class);
  }

  @Test
  void incrementalAlterConfigsSetsAndDeletesTopicOverrides() throws Exception {
    createTopic(new NewTopic("altered", 1, (short) 3));
    topicEverywhere("altered");
    final ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "altered");
    alter(topic, set("retention.ms", "5000"), set("max.message.bytes", "2000"));
    awaitOverrides("altered", Map.of("retention.ms", "5000", "max.message.bytes", "2000"));
    assertEntry(
        describe(topic), "retention.ms", "5000", ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
    awaitLogSettings("altered", 5000, 2000);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
      assertThatThrownBy(
              () ->
                  producer
                      .send(new ProducerRecord<>("altered", "k", "v".repeat(3000)))
                      .get(WAIT_S, TimeUnit.SECONDS))
          .as("max.message.bytes=2000 is in force on the leader")
          .hasCauseInstanceOf(RecordTooLargeException.class);
    }

    admin
        .incrementalAlterConfigs(
            Map.of(topic, List.of(set("retention.ms", "7000"))),
            new AlterConfigsOptions().validateOnly(true))
        .all()
        .get(WAIT_S, TimeUnit.SECONDS);
    awaitOverrides("altered", Map.of("retention.ms", "5000", "max.message.bytes", "2000"));
    alter(
        topic, new AlterConfigOp(new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE));
    awaitOverrides("altered", Map.of("max.message.bytes", "2000"));
    assertEntry(
        describe(topic), "retention.ms", "604800000", ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    awaitLogSettings("altered", 604800000, 2000);

    assertAlterRefused(topic, set("retention.ms", "soon"), InvalidConfigurationException.class);
    assertAlterRefused(topic, set("segment.bytes", "12"), InvalidConfigurationException.class);
    assertAlterRefused(topic, set("no.such.config", "1"), InvalidConfigurationException.class);
    assertAlterRefused(
        topic,
        new AlterConfigOp(new ConfigEntry("retention.ms", "1"), AlterConfigOp.OpType.APPEND),
        InvalidRequestException.class);
    assertAlterRefused(
        topic,
        new AlterConfigOp(new ConfigEntry("cleanup.policy", "shred"), AlterConfigOp.OpType.APPEND),
        InvalidConfigurationException.class);
    assertAlterRefused(
        new ConfigResource(ConfigResource.Type.BROKER, "1"),
        set("num.partitions", "3"),
        InvalidRequestException.class);
    awaitOverrides("altered", Map.of("max.message.bytes", "2000"));
  }

  @Test
  void theReplicationThrottleIsSetClusterWideReachesEveryBrokerAndIsDeleted() throws Exception {
    final ConfigResource clusterDefault = new ConfigResource(ConfigResource.Type.BROKER, "");
    final String key = "follower.replication.throttled.rate";
    alter(clusterDefault, set(key, "2097152"));
    awaitOnEveryBroker(
        node -> node.replicaFetcher().throttle().rate() == 2097152, "the throttle everywhere");
    assertEntry(
        describe(clusterDefault),
        key,
        "2097152",
        ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
    assertAlterRefused(clusterDefault, set(key, "12"), InvalidConfigurationException.class);
    assertAlterRefused(clusterDefault, set(key, "fast"), InvalidConfigurationException.class);
    assertAlterRefused(
        clusterDefault,
        set("leader.replication.throttled.rate", "2097152"),
        InvalidRequestException.class);
    assertAlterRefused(
        new ConfigResource(ConfigResource.Type.BROKER, "1"),
        set(key, "2097152"),
        InvalidRequestException.class);

    alter(
        clusterDefault, new AlterConfigOp(new ConfigEntry(key, null), AlterConfigOp.OpType.DELETE));
    awaitOnEveryBroker(
        node -> !node.replicaFetcher().throttle().isLimited(), "the throttle lifted");
    assertThat(describe(clusterDefault).get(key)).isNull();
  }

  @Test
  void describeLogDirsListsEveryHostedReplicaWithItsSize() throws Exception {
    createTopic(new NewTopic("sized", 2, (short) 3));
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
      for (int i = 0; i < 50; i++) {
        producer.send(new ProducerRecord<>("sized", 0, "k" + i, "v".repeat(1000)));
      }
      producer.flush();
    }
    final TopicPartition written = new TopicPartition("sized", 0);
    awaitTrue(
        () -> {
          try {
            final var dirs =
                admin
                    .describeLogDirs(List.of(1, 2, 3))
                    .allDescriptions()
                    .get(WAIT_S, TimeUnit.SECONDS);
            return dirs.values().stream()
                .allMatch(
                    byDir ->
                        byDir.values().stream()
                            .anyMatch(
                                d ->
                                    d.replicaInfos().containsKey(new TopicPartition("sized", 1))
                                        && d.replicaInfos().containsKey(written)
                                        && d.replicaInfos().get(written).size() > 50_000
                                        && d.totalBytes().orElse(0) > 0));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        "every broker reports both replicas, partition 0 with its 50 KB");
  }

  @Test
  void deleteRecordsMovesEveryReplicasLogStart() throws Exception {
    createTopic(new NewTopic("trimmed", 1, (short) 3));
    final TopicPartition tp = new TopicPartition("trimmed", 0);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
      for (int i = 0; i < 100; i++) {
        producer.send(new ProducerRecord<>("trimmed", 0, "k" + i, "v" + i));
      }
      producer.flush();
    }
    final long low =
        admin
            .deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(40)))
            .lowWatermarks()
            .get(tp)
            .get(WAIT_S, TimeUnit.SECONDS)
            .lowWatermark();
    assertThat(low).isEqualTo(40);
    final PartitionId id = topicEverywhere("trimmed").partition(0);
    for (int node : cluster.runningIds()) {
      final ReplicatedPartition replica = replica(node, id);
      awaitTrue(() -> replica.logStartOffset() == 40, "broker " + node + " log starts at 40");
    }

    assertThatThrownBy(
            () ->
                admin
                    .deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(1000)))
                    .all()
                    .get(WAIT_S, TimeUnit.SECONDS))
        .hasCauseInstanceOf(OffsetOutOfRangeException.class);

    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(KafkaClientsTest.consumerProps(cluster.bootstrap()))) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      // Under load the producer may retry a send that had in fact landed: count the log.
      final long end = consumer.endOffsets(List.of(tp)).get(tp);
      assertThat(end).isGreaterThanOrEqualTo(100);
      assertThat(consumer.beginningOffsets(List.of(tp)).get(tp)).isEqualTo(40);
      final List<ConsumerRecord<String, String>> records = new ArrayList<>();
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
      while (records.size() < end - 40 && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
      assertThat(records).hasSize((int) (end - 40));
      for (int i = 0; i < records.size(); i++) {
        assertThat(records.get(i).offset()).isEqualTo(40 + i);
      }
    }
  }

  @Test
  void electLeadersReturnsLeadershipToThePreferredReplica() throws Exception {
    createTopic(new NewTopic("elected", 1, (short) 3));
    final TopicInfo topic = topicEverywhere("elected");
    final PartitionId id = topic.partition(0);
    final int preferred = topic.replicasOf(0).get(0);
    final int other = topic.replicasOf(0).get(1);
    final ReplicatedPartition atPreferred = replica(preferred, id);
    awaitTrue(() -> atPreferred.leaderNodeId().isPresent(), "a leader of " + id);
    if (atPreferred.leaderNodeId().get() == preferred) {
      cluster
          .broker(preferred)
          .raft()
          .membership()
          .transferLeadership(id, other, Duration.ofSeconds(10));
    }
    awaitTrue(
        () -> atPreferred.leaderNodeId().filter(l -> l != preferred).isPresent(),
        "leadership away from the preferred replica " + preferred);

    final TopicPartition tp = new TopicPartition("elected", 0);
    assertThat(electPreferred(tp)).isEmpty();
    awaitTrue(atPreferred::isLeader, "broker " + preferred + " leads " + id);
    assertThat(electPreferred(tp)).containsInstanceOf(ElectionNotNeededException.class);
    assertThat(
            admin
                .electLeaders(ElectionType.UNCLEAN, Set.of(tp))
                .partitions()
                .get(WAIT_S, TimeUnit.SECONDS)
                .get(tp))
        .containsInstanceOf(InvalidRequestException.class);
    assertThat(electPreferred(new TopicPartition("elected", 5)))
        .containsInstanceOf(UnknownTopicOrPartitionException.class);
  }

  private static Optional<Throwable> electPreferred(TopicPartition tp) throws Exception {
    return admin
        .electLeaders(ElectionType.PREFERRED, Set.of(tp))
        .partitions()
        .get(WAIT_S, TimeUnit.SECONDS)
        .get(tp);
  }

  /** Broker {@code node}'s replica of {@code id}, once its partition reconciler created it. */
  private static ReplicatedPartition replica(int node, PartitionId id) throws InterruptedException {
    awaitTrue(
        () -> cluster.broker(node).raft().partition(id).isPresent(),
        "broker " + node + " hosting " + id);
    return cluster.broker(node).raft().partition(id).orElseThrow();
  }

  private static void createTopic(NewTopic topic) throws Exception {
    admin.createTopics(List.of(topic)).all().get(WAIT_S, TimeUnit.SECONDS);
  }

  /** The topic once every broker's metadata image has it. */
  private static TopicInfo topicEverywhere(String name) throws InterruptedException {
    awaitOnEveryBroker(n -> topicOn(n, name).isPresent(), "topic " + name + " on every broker");
    return topicOn(cluster.broker(1).raft(), name).orElseThrow();
  }

  private static void awaitPartitionCount(String name, int count) throws InterruptedException {
    awaitOnEveryBroker(
        n -> topicOn(n, name).map(TopicInfo::partitionCount).orElse(0) == count,
        "topic " + name + " with " + count + " partitions on every broker");
  }

  private static void awaitOverrides(String name, Map<String, String> overrides)
      throws InterruptedException {
    awaitOnEveryBroker(
        n -> topicOn(n, name).map(t -> t.configs().equals(overrides)).orElse(false),
        "overrides " + overrides + " of " + name + " on every broker");
  }

  /** Every replica's partition log has the given retention and batch limit in force. */
  private static void awaitLogSettings(String name, long retentionMs, int maxBatchBytes)
      throws InterruptedException {
    awaitOnEveryBroker(
        n ->
            n.partition(topicOn(n, name).orElseThrow().partition(0))
                .map(p -> p.log()) // null while the replica is still opening
                .map(log -> log.config())
                .map(c -> c.retentionMs() == retentionMs && c.maxBatchBytes() == maxBatchBytes)
                .orElse(false),
        "retention.ms " + retentionMs + " and max.message.bytes " + maxBatchBytes + " in force");
  }

  private static java.util.Optional<TopicInfo> topicOn(RaftNode node, String name) {
    return node.metadata().image().topic(name);
  }

  /** Waits until {@code condition} holds on the Raft node of every running broker. */
  private static void awaitOnEveryBroker(
      java.util.function.Predicate<RaftNode> condition, String what) throws InterruptedException {
    awaitTrue(
        () -> cluster.runningIds().stream().allMatch(n -> condition.test(cluster.broker(n).raft())),
        what);
  }

  private static void assertGrowRefused(
      String topic, NewPartitions growth, Class<? extends Throwable> error) {
    assertThatThrownBy(
            () -> admin.createPartitions(Map.of(topic, growth)).all().get(WAIT_S, TimeUnit.SECONDS))
        .hasCauseInstanceOf(error);
  }

  private static AlterConfigOp set(String name, String value) {
    return new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET);
  }

  private static void alter(ConfigResource resource, AlterConfigOp... ops) throws Exception {
    admin
        .incrementalAlterConfigs(Map.of(resource, List.of(ops)))
        .all()
        .get(WAIT_S, TimeUnit.SECONDS);
  }

  private static void assertAlterRefused(
      ConfigResource resource, AlterConfigOp op, Class<? extends Throwable> error) {
    assertThatThrownBy(() -> alter(resource, op)).hasCauseInstanceOf(error);
  }

  private static Config describe(ConfigResource resource) throws Exception {
    return admin
        .describeConfigs(List.of(resource))
        .all()
        .get(WAIT_S, TimeUnit.SECONDS)
        .get(resource);
  }

  private static void assertEntry(
      Config config, String name, String value, ConfigEntry.ConfigSource source) {
    final ConfigEntry entry = config.get(name);
    assertThat(entry).as(name).isNotNull();
    assertThat(entry.value()).as(name).isEqualTo(value);
    assertThat(entry.source()).as(name).isEqualTo(source);
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    Await.atMost(Duration.ofSeconds(WAIT_S))
        .pollingEvery(Duration.ofMillis(50))
        .until(what, condition);
  }
}
