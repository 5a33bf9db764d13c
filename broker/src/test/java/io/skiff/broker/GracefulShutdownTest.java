package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM's path ({@link Broker#shutdown}): leaderships are handed over before the broker stops,
 * and a restarted broker takes its preferred leaderships back once caught up, so a rolling restart
 * under produce load loses no acknowledged record.
 */
class GracefulShutdownTest {
  private static final String TOPIC = "rolling";
  private static final int PARTITIONS = 3;

  @TempDir Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void shutdownHandsEveryLeadershipToAnotherReplicaBeforeStopping() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of())) {
      createTopic(cluster);
      final int leader = 1;
      for (int p = 0; p < PARTITIONS; p++) {
        cluster.moveLeadership(partition(cluster, leader, p), leader, Duration.ofSeconds(60));
      }
      cluster.shutdownGracefully(leader);
      // No election timeout to wait for: the others lead the moment shutdown returns.
      for (int p = 0; p < PARTITIONS; p++) {
        assertThat(leaderAmong(cluster, p)).as("leader of partition %d", p).isNotEqualTo(-1);
      }
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void rollingRestartUnderLoadKeepsEveryAcknowledgedRecord() throws Exception {
    try (BrokerCluster cluster =
        new BrokerCluster(
            dir,
            3,
            Map.of(
                "min.insync.replicas", "2",
                "auto.leader.rebalance.enable", "true",
                "leader.imbalance.check.interval.seconds", "2"))) {
      createTopic(cluster);
      final Load load = new Load(cluster.bootstrap());
      final Thread producer = new Thread(load::run, "rolling-restart-producer");
      producer.start();
      load.awaitAcks(200);
      for (int id = 1; id <= 3; id++) {
        cluster.shutdownGracefully(id);
        load.awaitAcks(load.acked.size() + 100); // the others carry the load
        cluster.start(id);
        awaitPreferredLeadership(cluster, id);
      }
      load.awaitAcks(load.acked.size() + 100);
      load.stop.set(true);
      producer.join(TimeUnit.MINUTES.toMillis(3));

      assertThat(load.failures.get()).as("sends that failed").isZero();
      final List<String> read =
          KafkaClientsTest.readPartitions(cluster.bootstrap(), TOPIC, PARTITIONS).stream()
              .flatMap(List::stream)
              .toList();
      assertThat(KafkaClientsTest.missingFrom(read, load.acked))
          .as("acknowledged records missing from the partitions")
          .isEmpty();
      System.out.printf(
          "rolling restart: %d records acknowledged, longest wait between acks %d ms%n",
          load.acked.size(), load.longestGapMs.get());
    }
  }

  /** A producer sending acks=all records one after another until stopped. */
  private static final class Load {
    final Set<String> acked = ConcurrentHashMap.newKeySet();
    final AtomicInteger failures = new AtomicInteger();
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong longestGapMs = new AtomicLong();
    private final String bootstrap;
    private volatile long lastAckNanos = System.nanoTime();

    Load(String bootstrap) {
      this.bootstrap = bootstrap;
    }

    void run() {
      final Properties props = KafkaClientsTest.producerProps(bootstrap);
      props.put(ProducerConfig.ACKS_CONFIG, "all");
      props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
      props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
      props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
        for (int i = 0; !stop.get(); i++) {
          final String value = "record-" + i;
          producer.send(
              new ProducerRecord<>(TOPIC, i % PARTITIONS, null, value),
              (metadata, error) -> {
                if (error != null) {
                  failures.incrementAndGet();
                  return;
                }
                final long now = System.nanoTime();
                longestGapMs.accumulateAndGet(
                    TimeUnit.NANOSECONDS.toMillis(now - lastAckNanos), Math::max);
                lastAckNanos = now;
                acked.add(value);
              });
          if (i % 50 == 49) {
            producer.flush(); // keep a bounded number in flight, and the load steady
          }
        }
        producer.flush();
      }
    }

    void awaitAcks(int count) throws InterruptedException {
      final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (acked.size() < count) {
        assertThat(System.nanoTime()).as("%d acks in 2 minutes", count).isLessThan(deadline);
        Thread.sleep(50);
      }
    }
  }

  private static void createTopic(BrokerCluster cluster) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin
          .createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
          .all()
          .get(60, TimeUnit.SECONDS);
    }
    cluster.awaitTopic(TOPIC, Duration.ofSeconds(60));
  }

  private static PartitionId partition(BrokerCluster cluster, int on, int p) {
    return cluster.broker(on).raft().metadata().image().topic(TOPIC).orElseThrow().partition(p);
  }

  /** The running broker leading partition {@code p} and ready for writes, or -1. */
  private static int leaderAmong(BrokerCluster cluster, int p) {
    for (int id : cluster.runningIds()) {
      final PartitionId pid = partition(cluster, id, p);
      if (cluster
          .broker(id)
          .raft()
          .partition(pid)
          .map(ReplicatedPartition::isLeaderReady)
          .orElse(false)) {
        return id;
      }
    }
    return -1;
  }

  /** Waits until broker {@code id} leads every partition whose preferred replica it is. */
  private static void awaitPreferredLeadership(BrokerCluster cluster, int id)
      throws InterruptedException {
    final TopicInfo topic = cluster.broker(id).raft().metadata().image().topic(TOPIC).orElseThrow();
    final List<Integer> preferred = new ArrayList<>();
    for (int p = 0; p < PARTITIONS; p++) {
      if (topic.replicasOf(p).get(0) == id) {
        preferred.add(p);
      }
    }
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    for (int p : preferred) {
      while (leaderAmong(cluster, p) != id) {
        assertThat(System.nanoTime())
            .as("broker %d takes back the leadership of partition %d", id, p)
            .isLessThan(deadline);
        Thread.sleep(100);
      }
    }
  }
}
