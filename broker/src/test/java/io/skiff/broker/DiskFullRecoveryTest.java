package io.skiff.broker;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import io.skiff.testing.Await;
import io.skiff.testing.SmallTmpfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three brokers, broker 2's data directory a small tmpfs (mounting one needs root; skipped, saying
 * so, where {@code mount} is not permitted). Under acks=all load on an RF=3 topic, broker 2's disk
 * fills to 512 KiB free for 8 s, first while it leads the partition, then while it follows (a topic
 * is created meanwhile, so broker 2's metadata replica writes too): once the space is back, without
 * a restart, its replicas catch up again (the one whose Raft log failed restarted from disk), it
 * can lead again, topics created during and after get leaders and take writes with broker 2's
 * replicas following, and no acknowledged write is lost. Broker logs stay in Surefire's output file
 * of this class.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class DiskFullRecoveryTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int FULL = 2;
  private static final String TOPIC = "steady";

  @TempDir Path temp;

  @RegisterExtension
  final SmallTmpfs fullBrokerDisk =
      SmallTmpfs.perTestAt(() -> temp.resolve("broker-" + FULL), "256m", "disk-full test");

  @Test
  void aBrokerWhoseDiskFilledRecoversItsReplicasOnceSpaceIsFreedWithoutARestart() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(temp, 3, Map.of());
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      createTopic(admin, TOPIC);
      cluster.awaitTopic(TOPIC, WAIT);
      final PartitionId steady = partition(cluster, TOPIC);
      try (Load load = new Load(cluster.bootstrap())) {
        load.awaitAcknowledged(20);

        cluster.moveLeadership(steady, FULL, WAIT);
        fillForEightSeconds(load);
        assertRecovered(cluster, admin, load, steady, "after-full-leader");

        cluster.moveLeadership(steady, 1, WAIT);
        load.awaitAcknowledged(load.acknowledged.size() + 10);
        final Path ballast = fill();
        Thread.sleep(2_000); // broker 2's replica fills what the ballast left
        createTopic(admin, "during-full"); // a metadata entry broker 2 must write too
        Thread.sleep(6_000);
        Files.delete(ballast);
        assertRecovered(cluster, admin, load, steady, "after-full-follower");
        produceOneAndAwaitFullBrokersReplica(cluster, "during-full");

        cluster.moveLeadership(steady, FULL, WAIT);
        load.awaitAcknowledged(load.acknowledged.size() + 20);
        stopLoadAndAssertEveryAcknowledgedWriteIsRead(cluster, load);
        assertThat(load.acknowledged).hasSizeGreaterThan(60);
        assertThat(cluster.broker(FULL).raft().raftLogRestarts())
            .as("broker %d's replicas whose Raft log failed restarted from disk", FULL)
            .isPositive();
      }
    }
  }

  /**
   * Broker 2's disk fills up completely (below the partition replicas' reserve) while metadata
   * changes are committed, until its metadata group's Raft log fails (16 KiB Raft segments make it
   * open a new segment file soon): its metadata image stops. Once the space is back, without a
   * restart, its metadata replica restarts from disk and catches up: it sees a topic created after,
   * hosts and leads that topic's partition, its metadata listeners never saw an image go back, and
   * no acknowledged write is lost.
   */
  @Test
  void aBrokerWhoseMetadataLogFailedOnAFullDiskFollowsTheMetadataAgainOnceSpaceIsFreed()
      throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(temp, 3, Map.of("raft.segment.bytes", "16384"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      createTopic(admin, TOPIC);
      cluster.awaitTopic(TOPIC, WAIT);
      final List<Long> published = new CopyOnWriteArrayList<>();
      cluster.broker(FULL).raft().metadata().addListener(i -> published.add(i.appliedIndex()));
      try (Load load = new Load(cluster.bootstrap())) {
        load.awaitAcknowledged(20);

        final Path ballast = fullBrokerDisk.path().resolve("ballast");
        SmallTmpfs.fill(ballast, 4 << 10, written -> written);
        changeMetadataUntilFullBrokerStopsFollowing(cluster);
        Files.delete(ballast);

        final String after = "after-metadata-recovery";
        admin
            .createTopics(List.of(new NewTopic(after, Map.of(0, List.of(FULL, 1, 3)))))
            .all()
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        Await.atMost(WAIT.multipliedBy(2))
            .pollingEvery(Duration.ofMillis(200))
            .until(
                "broker " + FULL + "'s metadata image has topic " + after,
                () -> cluster.broker(FULL).raft().metadata().image().topic(after).isPresent());
        cluster.awaitLeaders(after, WAIT);
        cluster.moveLeadership(partition(cluster, after), FULL, WAIT);
        produceOneAndAwaitFullBrokersReplica(cluster, after);

        load.awaitAcknowledged(load.acknowledged.size() + 20);
        stopLoadAndAssertEveryAcknowledgedWriteIsRead(cluster, load);
        assertThat(published)
            .as("broker %d's metadata listeners saw every image once, in log order", FULL)
            .doesNotHaveDuplicates()
            .isSorted();
        assertThat(cluster.broker(FULL).raft().raftLogRestarts())
            .as("broker %d's metadata replica restarted from disk", FULL)
            .isPositive();
      }
    }
  }

  /** Stops the load and reads the partition back: every acknowledged write is in it. */
  private static void stopLoadAndAssertEveryAcknowledgedWriteIsRead(
      BrokerCluster cluster, Load load) throws Exception {
    load.stop();
    final List<String> read =
        KafkaClientsTest.readPartition(cluster.bootstrap(), new TopicPartition(TOPIC, 0), WAIT);
    assertThat(KafkaClientsTest.missingFrom(read, load.acknowledged))
        .as("acknowledged writes missing from the partition")
        .isEmpty();
  }

  /**
   * Commits topic config changes through broker 1 (a topic whose only replica is on broker 1) until
   * broker 2's metadata image stays behind broker 1's for 10 s: its metadata Raft log has failed.
   */
  private static void changeMetadataUntilFullBrokerStopsFollowing(BrokerCluster cluster)
      throws Exception {
    final String knobs = "knobs";
    final var metadata = cluster.broker(1).raft().metadata();
    metadata.createTopic(knobs, List.of(List.of(1)), Map.of()).get(WAIT.toSeconds(), SECONDS);
    for (int i = 0; i < 2_000; i++) {
      metadata
          .setTopicConfigs(knobs, Map.of("retention.ms", Long.toString(86_400_000L + i)))
          .get(WAIT.toSeconds(), SECONDS);
      final long index = metadata.image().appliedIndex();
      if (!fullBrokerAppliesWithin(cluster, index, Duration.ofSeconds(10))) {
        return;
      }
    }
    throw new AssertionError("broker " + FULL + "'s metadata log never failed on its full disk");
  }

  private static boolean fullBrokerAppliesWithin(
      BrokerCluster cluster, long index, Duration timeout) throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    while (cluster.broker(FULL).raft().metadata().image().appliedIndex() < index) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }

  /** Fills broker 2's disk to 512 KiB free while the load runs, then frees it after 8 s. */
  private void fillForEightSeconds(Load load) throws Exception {
    load.awaitAcknowledged(load.acknowledged.size() + 10);
    final Path ballast = fill();
    Thread.sleep(8_000);
    Files.delete(ballast);
  }

  private Path fill() throws IOException {
    final Path ballast = fullBrokerDisk.path().resolve("ballast");
    SmallTmpfs.fill(ballast, 64 << 10, written -> Math.max(0, written - (512 << 10)));
    return ballast;
  }

  /**
   * After the ballast is gone: the load's writes are acknowledged again, broker 2's replica of the
   * loaded partition catches up with what was acknowledged, and a new RF=3 topic (so one replica on
   * broker 2) gets a leader, takes a write and has broker 2's replica follow it.
   */
  private static void assertRecovered(
      BrokerCluster cluster, Admin admin, Load load, PartitionId steady, String newTopic)
      throws Exception {
    load.awaitAcknowledged(load.acknowledged.size() + 10);
    final long acknowledgedEnd = leaderReplica(cluster, steady).highWatermark();
    awaitReplicaOnFullBrokerReaches(cluster, steady, acknowledgedEnd);

    createTopic(admin, newTopic);
    cluster.awaitTopic(newTopic, WAIT);
    produceOneAndAwaitFullBrokersReplica(cluster, newTopic);
  }

  private static void produceOneAndAwaitFullBrokersReplica(BrokerCluster cluster, String topic)
      throws Exception {
    final long end;
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
      end =
          producer
                  .send(new ProducerRecord<>(topic, 0, null, "one"))
                  .get(WAIT.toSeconds(), TimeUnit.SECONDS)
                  .offset()
              + 1;
    }
    awaitReplicaOnFullBrokerReaches(cluster, partition(cluster, topic), end);
  }

  private static void awaitReplicaOnFullBrokerReaches(
      BrokerCluster cluster, PartitionId id, long offset) throws InterruptedException {
    Await.atMost(WAIT)
        .pollingEvery(Duration.ofMillis(200))
        .until(
            "broker " + FULL + "'s replica of " + id + " reaches offset " + offset,
            () ->
                cluster
                    .broker(FULL)
                    .raft()
                    .partition(id)
                    .map(r -> r.highWatermark() >= offset && r.logEndOffset() >= offset)
                    .orElse(false));
  }

  private static ReplicatedPartition leaderReplica(BrokerCluster cluster, PartitionId id)
      throws InterruptedException {
    final ReplicatedPartition[] leader = new ReplicatedPartition[1];
    Await.atMost(WAIT)
        .pollingEvery(Duration.ofMillis(100))
        .until(
            "a leader of " + id,
            () -> {
              for (int node : cluster.runningIds()) {
                final var replica = cluster.broker(node).raft().partition(id);
                if (replica.map(ReplicatedPartition::isLeaderReady).orElse(false)) {
                  leader[0] = replica.get();
                  return true;
                }
              }
              return false;
            });
    return leader[0];
  }

  private static void createTopic(Admin admin, String name) throws Exception {
    admin
        .createTopics(List.of(new NewTopic(name, 1, (short) 3)))
        .all()
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static PartitionId partition(BrokerCluster cluster, String topic) {
    return cluster.broker(1).raft().metadata().image().topic(topic).orElseThrow().partition(0);
  }

  /**
   * Idempotent acks=all sends of unique 4 KiB values, one every 10 ms (a follower on the full disk
   * runs out of its 512 KiB within seconds), recording the acknowledged.
   */
  private static final class Load implements AutoCloseable {
    private static final String PADDING = "x".repeat(4000);
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final KafkaProducer<String, String> producer;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread sender;

    Load(String bootstrap) {
      final Properties p = KafkaClientsTest.producerProps(bootstrap);
      p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
      p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
      producer = new KafkaProducer<>(p);
      sender = new Thread(this::send, "disk-full-load");
      sender.start();
    }

    private void send() {
      for (int i = 0; running.get(); i++) {
        final String value = i + "-" + PADDING;
        producer.send(
            new ProducerRecord<>(TOPIC, 0, null, value),
            (metadata, error) -> {
              if (error == null) {
                acknowledged.add(value);
              }
            });
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    void awaitAcknowledged(int count) throws InterruptedException {
      Await.atMost(WAIT)
          .pollingEvery(Duration.ofMillis(100))
          .until(count + " writes acknowledged", () -> acknowledged.size() >= count);
    }

    void stop() throws InterruptedException {
      running.set(false);
      sender.join();
      producer.flush();
    }

    @Override
    public void close() {
      running.set(false);
      try {
        sender.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      producer.close(Duration.ofSeconds(10));
    }
  }
}
