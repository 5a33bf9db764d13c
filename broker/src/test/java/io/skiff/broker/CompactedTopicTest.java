package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.broker.group.GroupCoordinator;
import io.skiff.log.FetchSlice;
import io.skiff.log.SegmentedLog;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import io.skiff.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Log compaction and the internal offsets topic through real brokers and kafka-clients. */
class CompactedTopicTest {
  private static final long WAIT_S = 90;
  private static final int KEYS = 20;
  private static final int ROUNDS = 30;

  @TempDir Path dir;

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void aCompactedTopicKeepsOnlyTheLatestValuePerKeyOnEveryReplica() throws Exception {
    try (BrokerCluster cluster =
            new BrokerCluster(
                dir, 3, Map.of("raft.snapshot.entries", "50", "raft.segment.bytes", "16384"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("latest", 1, (short) 3)
                      .configs(
                          Map.of(
                              "cleanup.policy", "compact",
                              "segment.bytes", "2048",
                              "min.cleanable.dirty.ratio", "0.01"))))
          .all()
          .get(WAIT_S, TimeUnit.SECONDS);
      final Map<String, String> latest = produce(cluster.bootstrap());

      final PartitionId id = topicOn(cluster, 1).partition(0);
      for (int node : cluster.runningIds()) {
        final ReplicatedPartition replica = replica(cluster, node, id);
        awaitTrue(() -> replica.highWatermark() >= KEYS * ROUNDS, "broker " + node + " caught up");
        awaitTrue(
            () -> {
              try {
                replica.applyRetention(); // the broker's periodic pass, now
                return cleanedBelowActiveSegment(replica.log());
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            },
            "broker " + node + " compacted its replica");
      }

      // Deterministic cleaning: once every replica has cleaned up to the same offset, their
      // segment files are byte-identical, empty batches and recompressed gzip batches included.
      awaitTrue(
          () -> {
            final Set<Long> checkpoints = new HashSet<>();
            for (int node : cluster.runningIds()) {
              try {
                final ReplicatedPartition replica = replica(cluster, node, id);
                replica.applyRetention();
                checkpoints.add(cleanerCheckpoint(replica.log()));
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            }
            return checkpoints.size() == 1;
          },
          "every replica cleaned up to the same offset");
      final SegmentedLog first = replica(cluster, 1, id).log();
      assertThat(emptyBatchesBelow(first, cleanerCheckpoint(first)))
          .as("superseded batches left as empty headers, which consumers must skip")
          .isGreaterThan(0);
      for (int node : cluster.runningIds()) {
        final SegmentedLog other = replica(cluster, node, id).log();
        for (long base : first.segmentBaseOffsets()) {
          if (base < cleanerCheckpoint(first)) {
            assertThat(Files.readAllBytes(segmentFile(other, base)))
                .as("segment %d on broker %d", base, node)
                .isEqualTo(Files.readAllBytes(segmentFile(first, base)));
          }
        }
      }

      final String metrics = scrapeMetrics(cluster.broker(1));
      assertThat(sample(metrics, "skiff_log_cleaner_passes")).isGreaterThan(0);
      assertThat(sample(metrics, "skiff_log_cleaner_bytes_read"))
          .isGreaterThan(sample(metrics, "skiff_log_cleaner_bytes_written"));
      assertThat(sample(metrics, "skiff_log_cleaner_records_removed")).isGreaterThan(0);
      assertThat(metrics).contains("skiff_log_cleaner_max_dirty_ratio");

      final TopicPartition tp = new TopicPartition("latest", 0);
      final Map<String, String> seen = new HashMap<>();
      int consumed = 0;
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(KafkaClientsTest.consumerProps(cluster.bootstrap()))) {
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        final long end = consumer.endOffsets(List.of(tp)).get(tp);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (consumer.position(tp) < end && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            seen.put(r.key(), r.value());
            consumed++;
          }
        }
        assertThat(consumer.position(tp)).isEqualTo(end);
      }
      assertThat(seen).isEqualTo(latest);
      assertThat(consumed).isLessThan(KEYS * ROUNDS / 2);
    }
  }

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void theOffsetsTopicIsCompactedAndRefusesClientWrites() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 1, Map.of());
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      // FindCoordinator creates the offsets topic on first use.
      admin
          .listConsumerGroupOffsets("g")
          .partitionsToOffsetAndMetadata()
          .get(WAIT_S, TimeUnit.SECONDS);
      awaitTrue(
          () -> cluster.broker(1).raft().metadata().image().topic(OFFSETS).isPresent(),
          "the offsets topic");
      final TopicInfo offsets = cluster.broker(1).raft().metadata().image().topic(OFFSETS).get();
      assertThat(offsets.configs()).containsEntry("cleanup.policy", "compact");

      final TopicPartition tp = new TopicPartition(OFFSETS, 0);
      final var props = KafkaClientsTest.producerProps(cluster.bootstrap());
      props.put(ProducerConfig.RETRIES_CONFIG, "0");
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
        assertThatThrownBy(
                () ->
                    producer
                        .send(new ProducerRecord<>(OFFSETS, 0, "k", "v"))
                        .get(WAIT_S, TimeUnit.SECONDS))
            .hasCauseInstanceOf(InvalidTopicException.class);
      }
      assertThatThrownBy(
              () ->
                  admin
                      .deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(0)))
                      .all()
                      .get(WAIT_S, TimeUnit.SECONDS))
          .hasCauseInstanceOf(InvalidTopicException.class);
      assertThatThrownBy(
              () ->
                  admin
                      .createPartitions(
                          Map.of(OFFSETS, NewPartitions.increaseTo(offsets.partitionCount() + 1)))
                      .all()
                      .get(WAIT_S, TimeUnit.SECONDS))
          .hasCauseInstanceOf(InvalidTopicException.class);
    }
  }

  private static final String OFFSETS = GroupCoordinator.OFFSETS_TOPIC;

  /**
   * Writes every key {@link #ROUNDS} times, odd rounds gzip-compressed, two records a batch;
   * returns each key's last value.
   */
  private static Map<String, String> produce(String bootstrap) throws Exception {
    final Map<String, String> latest = new HashMap<>();
    final var gzipProps = KafkaClientsTest.producerProps(bootstrap);
    gzipProps.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "gzip");
    try (KafkaProducer<String, String> plain =
            new KafkaProducer<>(KafkaClientsTest.producerProps(bootstrap));
        KafkaProducer<String, String> gzip = new KafkaProducer<>(gzipProps)) {
      for (int round = 0; round < ROUNDS; round++) {
        final KafkaProducer<String, String> producer = round % 2 == 0 ? plain : gzip;
        for (int k = 0; k < KEYS; k++) {
          final String value = "value-" + round + "-" + "x".repeat(20);
          producer.send(new ProducerRecord<>("latest", 0, "key-" + k, value));
          latest.put("key-" + k, value);
          if (k % 2 == 1) {
            producer.flush(); // one Raft entry each: snapshots then let Ratis purge its log
          }
        }
      }
    }
    return latest;
  }

  private static String scrapeMetrics(Broker broker) throws Exception {
    final java.net.http.HttpResponse<String> response =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + broker.adminPort() + "/metrics"))
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  /** The value of the unlabelled sample {@code family} in a Prometheus text exposition. */
  private static double sample(String exposition, String family) {
    for (String line : exposition.split("\n")) {
      if (line.startsWith(family + " ")) {
        return Double.parseDouble(line.substring(family.length() + 1).trim());
      }
    }
    throw new AssertionError(family + " is missing from /metrics");
  }

  private static long cleanerCheckpoint(SegmentedLog log) throws Exception {
    final Path checkpoint = log.dir().resolve("cleaner-offset-checkpoint");
    return Files.exists(checkpoint) ? Long.parseLong(Files.readString(checkpoint).trim()) : -1;
  }

  private static Path segmentFile(SegmentedLog log, long base) {
    return log.dir().resolve(String.format("%020d.log", base));
  }

  private static int emptyBatchesBelow(SegmentedLog log, long end) throws Exception {
    int empty = 0;
    long offset = log.logStartOffset();
    while (offset < end) {
      final FetchSlice slice = log.read(offset, 64 * 1024, end);
      if (slice.isEmpty()) {
        break;
      }
      for (RecordBatch batch : MemoryRecords.readableRecords(slice.copyToHeap()).batches()) {
        empty += batch.countOrNull() == 0 ? 1 : 0;
        offset = batch.nextOffset();
      }
    }
    return empty;
  }

  /**
   * Whether the cleaner has been through most of {@code log} and no key appears twice in what it
   * cleaned (below its checkpoint; what lies above is still needed by Raft or not yet cleanable).
   */
  private static boolean cleanedBelowActiveSegment(SegmentedLog log) throws Exception {
    final Path checkpoint = log.dir().resolve("cleaner-offset-checkpoint");
    if (!Files.exists(checkpoint)) {
      return false;
    }
    final long activeBase = Long.parseLong(Files.readString(checkpoint).trim());
    if (activeBase < KEYS * ROUNDS / 2) {
      return false;
    }
    final Set<String> keys = new HashSet<>();
    final List<String> duplicates = new ArrayList<>();
    long offset = log.logStartOffset();
    while (offset < activeBase) {
      final FetchSlice slice = log.read(offset, 64 * 1024, activeBase);
      if (slice.isEmpty()) {
        break;
      }
      for (RecordBatch batch : MemoryRecords.readableRecords(slice.copyToHeap()).batches()) {
        batch.ensureValid();
        for (Record record : batch) {
          final String key = StandardCharsets.UTF_8.decode(record.key()).toString();
          if (!keys.add(key)) {
            duplicates.add(key);
          }
        }
        offset = batch.nextOffset();
      }
    }
    return duplicates.isEmpty();
  }

  private static TopicInfo topicOn(BrokerCluster cluster, int node) throws InterruptedException {
    awaitTrue(
        () -> cluster.broker(node).raft().metadata().image().topic("latest").isPresent(),
        "topic on broker " + node);
    return cluster.broker(node).raft().metadata().image().topic("latest").orElseThrow();
  }

  private static ReplicatedPartition replica(BrokerCluster cluster, int node, PartitionId id)
      throws InterruptedException {
    awaitTrue(
        () -> cluster.broker(node).raft().partition(id).isPresent(),
        "broker " + node + " hosting " + id);
    return cluster.broker(node).raft().partition(id).orElseThrow();
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    Await.atMost(Duration.ofSeconds(WAIT_S))
        .pollingEvery(Duration.ofMillis(200))
        .until(what, condition);
  }
}
