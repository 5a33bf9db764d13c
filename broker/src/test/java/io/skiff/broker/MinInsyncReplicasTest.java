package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code min.insync.replicas} with {@code acks=all}, as Kafka clients expect it: a partition whose
 * leader has fewer replicas in sync than the setting asks refuses writes at once with
 * NOT_ENOUGH_REPLICAS (not a timeout), takes them again once the replica is back, and never stores
 * a refused record.
 */
class MinInsyncReplicasTest {
  private static final long WAIT_S = 60;

  @TempDir Path dir;

  @Test
  void refusesAcksAllWritesWhileTooFewReplicasAreInSync() throws Exception {
    try (BrokerCluster cluster =
            new BrokerCluster(dir, 3, Map.of("replica.lag.time.max.ms", "3000"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()));
        KafkaProducer<String, String> producer =
            new KafkaProducer<>(KafkaClientsTest.noRetriesProducerProps(cluster.bootstrap()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("strict", Map.of(0, List.of(1, 2, 3)))
                      .configs(Map.of("min.insync.replicas", "3")),
                  new NewTopic("majority", Map.of(0, List.of(1, 2, 3)))
                      .configs(Map.of("min.insync.replicas", "2"))))
          .all()
          .get(WAIT_S, TimeUnit.SECONDS);
      final Outcomes stored = new Outcomes();
      awaitOutcome(producer, "strict", null, stored);
      awaitOutcome(producer, "majority", null, stored);

      final int leader = leaderOf(admin, "strict");
      final int follower = leader % 3 + 1;
      cluster.stop(follower);
      final long refusedIn =
          awaitOutcome(producer, "strict", NotEnoughReplicasException.class, stored);
      assertThat(refusedIn).as("refused at once, not after the request timeout").isLessThan(5000);
      awaitOutcome(producer, "majority", null, stored);
      assertThat(stored.refused)
          .as("the idle survivor holds every entry, so two of three stay in sync")
          .noneMatch(v -> v.startsWith("majority-"));

      cluster.start(follower);
      awaitOutcome(producer, "strict", null, stored);
      assertThat(stored.refused).isNotEmpty();
      final List<String> log =
          KafkaClientsTest.readPartition(
              cluster.bootstrap(), new TopicPartition("strict", 0), Duration.ofSeconds(WAIT_S));
      assertThat(log)
          .as("the log holds every acknowledged record")
          .containsAll(stored.acknowledged.stream().filter(v -> v.startsWith("strict-")).toList());
      assertThat(log)
          .as("and none of the refused ones")
          .doesNotContainAnyElementsOf(stored.refused);
    }
  }

  /** The values sent: acknowledged, and refused with NOT_ENOUGH_REPLICAS. */
  private static final class Outcomes {
    final List<String> acknowledged = new ArrayList<>();
    final List<String> refused = new ArrayList<>();
  }

  /**
   * Sends a record at a time until one ends as expected ({@code error} null: acknowledged),
   * recording each outcome.
   *
   * @return how long the send that ended as expected took, in milliseconds
   */
  private static long awaitOutcome(
      KafkaProducer<String, String> producer,
      String topic,
      Class<? extends Exception> error,
      Outcomes outcomes)
      throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
    for (int i = 0; System.nanoTime() < deadline; i++) {
      final String value = topic + "-" + outcomes.acknowledged.size() + "-" + i;
      final long start = System.nanoTime();
      Throwable failure = null;
      try {
        producer.send(new ProducerRecord<>(topic, 0, null, value)).get(WAIT_S, TimeUnit.SECONDS);
        outcomes.acknowledged.add(value);
      } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
        failure = e.getCause() != null ? e.getCause() : e;
        if (failure instanceof NotEnoughReplicasException) {
          outcomes.refused.add(value);
        }
      }
      final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      System.err.println(
          "DIAG " + java.time.LocalTime.now() + " " + topic + " took " + tookMs + " " + failure);
      if (error == null ? failure == null : error.isInstance(failure)) {
        return tookMs;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(
        topic + ": no send ended " + (error == null ? "acknowledged" : "with " + error));
  }

  private static int leaderOf(Admin admin, String topic) throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
    while (System.nanoTime() < deadline) {
      final var info =
          admin
              .describeTopics(List.of(topic))
              .topicNameValues()
              .get(topic)
              .get(WAIT_S, TimeUnit.SECONDS)
              .partitions()
              .get(0);
      if (info.leader() != null && !info.leader().isEmpty()) {
        return info.leader().id();
      }
      Thread.sleep(100);
    }
    throw new AssertionError(topic + " has no leader");
  }
}
