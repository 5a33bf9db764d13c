package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.cli.verify.Verdict;
import io.skiff.cli.verify.WorkloadConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The durability claim on five broker containers, all of them metadata voters, with room for
 * replicas to move: each nemesis alone under the queue workload (a bridge partition, one-way
 * partitions, a full disk, replica moves and decommissions), then all of them mixed on one
 * schedule. Every broker's data directory is a small tmpfs so that a disk can be filled; no test
 * here kills or restarts a container (a tmpfs does not outlive it). Skipped, saying why, where
 * Docker or the images are missing. Tagged {@code five-brokers}: it takes ~15 minutes on two cores,
 * so it runs under {@code -Pchaos-soak}, not in the default build.
 */
@Tag("five-brokers")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class FiveBrokerChaosTest {
  /** Under the broker's 1 MiB reserve: every append to the full broker is refused. */
  private static final long LEFT_FREE = 512 * 1024;

  private SkiffContainerCluster cluster;
  private SkiffCommandLine skiff;

  @BeforeAll
  void startCluster() {
    SkiffImage.requireDocker();
    cluster = new SkiffContainerCluster(5, Map.of(), "256m").start();
    skiff = new SkiffCommandLine(cluster.bootstrap(), cluster.admin(), Duration.ofMinutes(4));
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void acknowledgedWritesSurviveABridgePartition() throws Exception {
    final ChaosRun run =
        run(
            "acknowledgedWritesSurviveABridgePartition",
            "bridge",
            2,
            leader -> List.of(PartitionNemesis.bridge(cluster, 22)));

    assertValid(run);
    assertThat(windows(run)).allMatch(f -> f.startsWith("partition: bridge"));
  }

  @Test
  @Order(2)
  void acknowledgedWritesSurviveOneWayPartitions() throws Exception {
    final ChaosRun run =
        run(
            "acknowledgedWritesSurviveOneWayPartitions",
            "one-way",
            2,
            leader ->
                List.of(
                    PartitionNemesis.oneWayToLeader(cluster, leader),
                    PartitionNemesis.oneWayFromLeader(cluster, leader)));

    assertValid(run);
    assertThat(windows(run))
        .anyMatch(f -> f.matches("partition: one-way: \\[.*] -> \\d dropped"))
        .anyMatch(f -> f.matches("partition: one-way: \\d -> \\[.*] dropped"));
  }

  @Test
  @Order(3)
  void aFullDiskRefusesWritesWithAStorageErrorAndTakesThemOnceFreed() throws Exception {
    final String topic = "disk-full-probe";
    try (Admin admin = admin()) {
      admin
          .createTopics(List.of(new NewTopic(topic, 1, (short) 3)))
          .all()
          .get(60, TimeUnit.SECONDS);
    }
    try (LeaderLocator locator = new LeaderLocator(cluster.bootstrap(), topic, 0, ids(), 1);
        KafkaProducer<String, String> producer = probeProducer()) {
      awaitLeader(locator);
      final DiskFullNemesis disk =
          new DiskFullNemesis(cluster, locator, SkiffContainerCluster.DATA_DIR, LEFT_FREE);
      assertThat(disk.start()).matches("disk full on broker \\d: ballast of \\d+ MiB leaves .*");
      try {
        assertThatThrownBy(() -> send(producer, topic, "refused"))
            .hasCauseInstanceOf(KafkaStorageException.class);
      } finally {
        disk.heal();
      }
      sendWithinAMinute(producer, topic, "taken once freed");
    }
  }

  @Test
  @Order(4)
  void acknowledgedWritesSurviveAFullDiskOnTheLeader() throws Exception {
    final ChaosRun run =
        run(
            "acknowledgedWritesSurviveAFullDiskOnTheLeader",
            "disk-full",
            2,
            leader ->
                List.of(
                    new DiskFullNemesis(
                        cluster, leader, SkiffContainerCluster.DATA_DIR, LEFT_FREE)));

    assertValid(run);
    assertThat(windows(run)).allMatch(f -> f.startsWith("disk full on broker"));
  }

  @Test
  @Order(5)
  void acknowledgedWritesSurviveReplicaMovesAndDecommissions() throws Exception {
    final String topic = "moves";
    try (ReplicaMoveNemesis move = new ReplicaMoveNemesis(skiff, topic, 0, ids(), 5)) {
      final ChaosRun run =
          run(
              "acknowledgedWritesSurviveReplicaMovesAndDecommissions",
              topic,
              3,
              leader -> List.of(move, new DecommissionNemesis(skiff, leader), move));

      assertValid(run);
      assertThat(windows(run))
          .anyMatch(f -> f.startsWith("replica move of"))
          .anyMatch(f -> f.startsWith("decommission of broker"));
    }
  }

  @Test
  @Order(6)
  void acknowledgedWritesSurviveAMixedSchedule() throws Exception {
    final String topic = "mixed";
    try (ReplicaMoveNemesis move = new ReplicaMoveNemesis(skiff, topic, 0, ids(), 6)) {
      final ChaosRun run =
          run(
              "acknowledgedWritesSurviveAMixedSchedule",
              topic,
              5,
              leader ->
                  List.of(
                      PartitionNemesis.bridge(cluster, 6),
                      new DiskFullNemesis(
                          cluster, leader, SkiffContainerCluster.DATA_DIR, LEFT_FREE),
                      move,
                      PartitionNemesis.oneWayToLeader(cluster, leader),
                      new DecommissionNemesis(skiff, leader)));

      assertValid(run);
      assertThat(windows(run)).hasSizeGreaterThanOrEqualTo(5);
    }
  }

  private ChaosRun run(
      String name, String topic, int minFaults, Function<LeaderLocator, List<Nemesis>> nemeses)
      throws Exception {
    return ChaosRun.run(
        name,
        WorkloadConfig.durable(cluster.bootstrap(), topic),
        ChaosRun.length(Duration.ofSeconds(30)),
        minFaults,
        Duration.ofSeconds(4),
        Duration.ofSeconds(8),
        nemeses,
        ids());
  }

  private static void assertValid(ChaosRun run) {
    // progress, not throughput: a loaded 2-core machine runs five brokers slowly
    run.assertAcknowledgedWritesSurvived(20);
    assertThat(run.verdict().availability()).hasSize(run.faults());
  }

  private static List<String> windows(ChaosRun run) {
    return run.verdict().availability().stream().map(Verdict.FaultWindow::fault).toList();
  }

  private List<Integer> ids() {
    return cluster.ids();
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

  private static void send(KafkaProducer<String, String> producer, String topic, String value)
      throws ExecutionException, InterruptedException, TimeoutException {
    producer.send(new ProducerRecord<>(topic, 0, null, value)).get(90, TimeUnit.SECONDS);
  }

  /** Sends until the cluster takes the record (the producer itself does not retry). */
  private static void sendWithinAMinute(
      KafkaProducer<String, String> producer, String topic, String value) throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        send(producer, topic, value);
        return;
      } catch (ExecutionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(1_000);
      }
    }
  }

  private static void awaitLeader(LeaderLocator locator) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (locator.leader() < 0 && System.nanoTime() < deadline) {
      Thread.sleep(500);
    }
  }
}
