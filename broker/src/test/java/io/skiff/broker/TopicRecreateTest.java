package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A topic deleted and created again while one broker is down: when that broker returns, its
 * replicas hold the new topic's records, byte for byte as the others do, and the deleted topic's
 * records are gone from every broker's disk.
 */
class TopicRecreateTest {
  private static final String TOPIC = "recreated";
  private static final int PARTITIONS = 3;
  private static final int RECORDS = 1000;

  @TempDir Path dir;

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void returningBrokerNeverAdoptsTheLogOfADeletedTopicOfTheSameName() throws Exception {
    // Snapshots purge the partitions' Raft logs, so the returning broker catches up from segments.
    // (Every 20 entries also purged the metadata log, which Ratis then asked broker 3 to install
    // again and again: see docs/raft.md, "Not yet".)
    try (BrokerCluster cluster =
        new BrokerCluster(dir, 3, Map.of("raft.snapshot.entries", "100"))) {
      final String bootstrap = cluster.bootstrap();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        createTopic(admin);
        produce(bootstrap, "old-record-");
        cluster.stop(3);
        admin.deleteTopics(List.of(TOPIC)).all().get(60, TimeUnit.SECONDS);
        waitUntil(() -> cluster.broker(1).raft().metadata().image().topic(TOPIC).isEmpty());
        createTopic(admin);
        produce(bootstrap, "new-record-");
        cluster.start(3);
        final TopicInfo topic = cluster.broker(1).raft().metadata().image().topic(TOPIC).get();
        for (int p = 0; p < PARTITIONS; p++) {
          awaitReplicasLevel(cluster, topic.partition(p));
        }
        for (int p = 0; p < PARTITIONS; p++) {
          final Map<String, byte[]> first = logFiles(dir.resolve("broker-1"), p);
          assertThat(first).as("segments of partition %d on broker 1", p).isNotEmpty();
          for (int broker = 2; broker <= 3; broker++) {
            final Map<String, byte[]> other = logFiles(dir.resolve("broker-" + broker), p);
            assertThat(other.keySet())
                .as("segment files on broker %d", broker)
                .isEqualTo(first.keySet());
            for (String name : first.keySet()) {
              assertThat(other.get(name))
                  .as("%s of partition %d on broker %d", name, p, broker)
                  .isEqualTo(first.get(name));
            }
          }
        }
        assertThat(cluster.broker(3).raft().partitions())
            .as("replicas broker 3 hosts")
            .extracting(ReplicatedPartition::id)
            .containsExactlyInAnyOrder(topic.partition(0), topic.partition(1), topic.partition(2));
        for (int broker = 1; broker <= 3; broker++) {
          assertThat(filesContaining(dir.resolve("broker-" + broker), "old-record-"))
              .as("files on broker %d holding the deleted topic's records", broker)
              .isEmpty();
        }
      }
    }
  }

  private static void createTopic(Admin admin) throws Exception {
    admin
        .createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
        .all()
        .get(60, TimeUnit.SECONDS);
  }

  private static void produce(String bootstrap, String prefix) {
    final Properties props = KafkaClientsTest.producerProps(bootstrap);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < RECORDS; i++) {
        producer.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, null, prefix + i));
      }
      producer.flush();
    }
  }

  /** Waits until every broker hosts the partition at the same log end and high watermark. */
  private static void awaitReplicasLevel(BrokerCluster cluster, PartitionId id) throws Exception {
    waitUntil(
        () -> {
          final long[] ends = new long[3];
          for (int broker = 1; broker <= 3; broker++) {
            final Optional<ReplicatedPartition> replica =
                cluster.broker(broker).raft().partition(id);
            if (replica.isEmpty()
                || replica.get().log() == null // not started yet
                || replica.get().highWatermark() != replica.get().logEndOffset()) {
              return false;
            }
            ends[broker - 1] = replica.get().logEndOffset();
          }
          return ends[0] > 0 && ends[0] == ends[1] && ends[1] == ends[2];
        });
  }

  /** The {@code .log} files of partition {@code p} of the topic in a broker's data directory. */
  private static Map<String, byte[]> logFiles(Path brokerDir, int p) throws IOException {
    final Map<String, byte[]> files = new TreeMap<>();
    final Path partitionDir = brokerDir.resolve("log").resolve(TOPIC + "-" + p);
    if (!Files.isDirectory(partitionDir)) {
      return files;
    }
    try (Stream<Path> list = Files.list(partitionDir)) {
      for (Path file : list.filter(f -> f.toString().endsWith(".log")).toList()) {
        files.put(file.getFileName().toString(), Files.readAllBytes(file));
      }
    }
    return files;
  }

  private static List<Path> filesContaining(Path root, String text) throws IOException {
    final byte[] needle = text.getBytes(StandardCharsets.UTF_8);
    try (Stream<Path> all = Files.walk(root)) {
      return all.filter(Files::isRegularFile).filter(f -> contains(f, needle)).toList();
    }
  }

  private static boolean contains(Path file, byte[] needle) {
    final byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      return false; // deleted while walking
    }
    outer:
    for (int i = 0; i + needle.length <= bytes.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (bytes[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private interface Condition {
    boolean holds() throws Exception;
  }

  private static void waitUntil(Condition condition) throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!condition.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not reached within 120 s");
      }
      Thread.sleep(200);
    }
  }
}
