package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The nemesis families that need room or a small disk, in the default build: four broker containers
 * (three metadata voters, the fourth a metadata listener, so a replica always has a broker to move
 * to), each data directory a 256 MiB tmpfs. Under the queue workload: one-way partitions to and
 * from the leader; a full disk on the leader; replica moves and a decommission of the leader;
 * bridge partitions. Short runs (45–60 s); the five-broker suite ({@link FiveBrokerChaosTest}) runs
 * them with five brokers, and the mixed schedule, under {@code -Pchaos-soak}. No test here kills or
 * restarts a container (a tmpfs does not outlive it). Skipped, saying why, where Docker or the
 * images are missing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FourBrokerChaosTest extends SharedClusterChaosTest {
  @Override
  SkiffContainerCluster newCluster() {
    return new SkiffContainerCluster(4, 3, Map.of(), "256m");
  }

  @Test
  @Order(1)
  void acknowledgedWritesSurviveOneWayPartitions() throws Exception {
    checkOneWayPartitions(
        "acknowledgedWritesSurviveOneWayPartitionsOnFourBrokers", Duration.ofSeconds(45));
  }

  /**
   * The broker filled is the partition's leader when the probe is sent: if leadership moved off it
   * meanwhile (the probe then goes to a broker with room, which takes it, as Kafka would), the
   * attempt does not count, and the disk of the new leader is filled in the next one.
   */
  @Test
  @Order(2)
  void aFullDiskOnTheLeaderRefusesWritesWithAStorageErrorAndTakesThemOnceFreed() throws Exception {
    final String topic = "disk-full-probe";
    try (Admin admin = admin()) {
      admin
          .createTopics(List.of(new NewTopic(topic, 1, (short) 3)))
          .all()
          .get(60, TimeUnit.SECONDS);
    }
    try (LeaderLocator locator = new LeaderLocator(cluster.bootstrap(), topic, 0, ids(), 1);
        KafkaProducer<String, String> producer = probeProducer()) {
      // A new partition's first leader is elected after CreateTopics answers, and until then a
      // broker may name the preferred replica: a first write waits for the real one.
      sendWithinAMinute(producer, topic, "before");
      for (int attempt = 1; ; attempt++) {
        final int leader = awaitStableLeader(locator);
        final DiskFullNemesis disk =
            new DiskFullNemesis(cluster, () -> leader, SkiffContainerCluster.DATA_DIR, LEFT_FREE);
        assertThat(disk.start()).matches("disk full on broker \\d: ballast of \\d+ MiB leaves .*");
        try {
          final Throwable refused = sendOrError(producer, topic, "refused " + attempt);
          if (refused instanceof KafkaStorageException) {
            break;
          }
          final int now = locator.leader();
          assertThat(now)
              .as("the full leader %d answered %s", leader, String.valueOf(refused))
              .isNotEqualTo(leader);
          if (attempt == 3) {
            fail("leadership left the full broker in each of 3 attempts (last to " + now + ")");
          }
        } finally {
          disk.heal();
        }
      }
      sendWithinAMinute(producer, topic, "taken once freed");
    }
  }

  @Test
  @Order(3)
  void acknowledgedWritesSurviveAFullDiskOnTheLeader() throws Exception {
    final ChaosRun run =
        run(
            "acknowledgedWritesSurviveAFullDiskOnTheLeaderOnFourBrokers",
            "disk-full",
            Duration.ofSeconds(45),
            2,
            leader ->
                List.of(
                    new DiskFullNemesis(
                        cluster, leader, SkiffContainerCluster.DATA_DIR, LEFT_FREE)));

    assertValid(run);
    assertThat(windows(run)).allMatch(f -> f.startsWith("disk full on broker"));
  }

  /**
   * Once stalled a drain: the new leader's reassignment step, computed from a stale configuration,
   * made the replica just moved away a voter again (docs/chaos.md, "A group wedged after a move").
   */
  @Test
  @Order(4)
  void acknowledgedWritesSurviveReplicaMovesAndADecommission() throws Exception {
    checkReplicaMovesAndDecommissions(
        "acknowledgedWritesSurviveReplicaMovesAndADecommissionOnFourBrokers",
        Duration.ofSeconds(60),
        4);
  }

  /**
   * With four brokers the bridge joins a half of one broker and a half of two: the leader may sit
   * on either side, or be the bridge.
   */
  @Test
  @Order(5)
  void acknowledgedWritesSurviveABridgePartition() throws Exception {
    checkBridgePartitions(
        "acknowledgedWritesSurviveABridgePartitionOnFourBrokers", Duration.ofSeconds(45));
  }

  private Admin admin() {
    final Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
    return Admin.create(p);
  }

  /** A producer that does not retry, so that the first error is the one the test sees. */
  private KafkaProducer<String, String> probeProducer() {
    final Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.RETRIES_CONFIG, 0);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  /** Sends one record; null when it was taken, else why not. */
  private static Throwable sendOrError(
      KafkaProducer<String, String> producer, String topic, String value) throws Exception {
    try {
      producer.send(new ProducerRecord<>(topic, 0, null, value)).get(90, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  /** Sends until the cluster takes the record (the producer itself does not retry). */
  private static void sendWithinAMinute(
      KafkaProducer<String, String> producer, String topic, String value) throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Throwable error;
    while ((error = sendOrError(producer, topic, value)) != null) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the freed cluster still refuses writes", error);
      }
      Thread.sleep(1_000);
    }
  }

  /** The partition's leader once three look-ups a second apart agree on it. */
  private static int awaitStableLeader(LeaderLocator locator) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int leader = -1;
    for (int agreeing = 0; agreeing < 3; ) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the probe partition has no steady leader after 60 s");
      }
      final int now = locator.leader();
      agreeing = now >= 0 && now == leader ? agreeing + 1 : 1;
      leader = now;
      Thread.sleep(1_000);
    }
    return leader;
  }
}
