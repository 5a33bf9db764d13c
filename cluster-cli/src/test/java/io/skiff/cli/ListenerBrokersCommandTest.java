package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.skiff.broker.BrokerCluster;
import io.skiff.broker.TopicValues;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Brokers beyond the three metadata voters, run through {@code skiff}: a fifth broker joins a
 * running cluster with only its configuration and gets replicas from {@code partition balance}; a
 * fourth is decommissioned under produce load and then unregistered from the metadata group. Each
 * test runs its own real brokers; records are checked with real Kafka clients.
 */
class ListenerBrokersCommandTest {
  private static final Duration WAIT = Duration.ofSeconds(180);
  private static final Map<String, String> SETTINGS =
      Map.of("offsets.topic.num.partitions", "3", "default.replication.factor", "3");

  @TempDir Path dir;

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void aFifthBrokerJoinsWithItsConfigAndBalanceGivesItReplicas() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 4, 3, SETTINGS)) {
      final Cli cli = cli(cluster);
      ok(cli, "topic", "create", "grow", "-p", "10", "-r", "3");
      cluster.awaitTopic("grow", WAIT);
      final List<String> written = TopicValues.produce(cluster.bootstrap(), "grow", 300);

      cluster.addBroker(5);
      final JsonNode joined = brokerInList(cli, 5);
      assertThat(joined.path("replicas").asInt()).as("placement has not used it yet").isZero();

      final Cli.Run balanced = ok(cli, "partition", "balance", "-o", "json");
      assertThat(brokerInList(cli, 5).path("replicas").asInt())
          .as("replicas on broker 5 after balance: " + balanced.out())
          .isGreaterThanOrEqualTo(5);
      assertThat(TopicValues.readUntilAll(cluster.bootstrap(), "grow", 10, written, WAIT))
          .containsExactlyInAnyOrderElementsOf(written);
    }
  }

  @Test
  @Timeout(value = 12, unit = TimeUnit.MINUTES)
  void decommissionOfAListenerBrokerUnderLoadMovesEveryReplicaAndKeepsEveryAckedRecord()
      throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 4, 3, SETTINGS)) {
      final Cli cli = cli(cluster);
      ok(cli, "topic", "create", "load", "-p", "8", "-r", "3");
      cluster.awaitTopic("load", WAIT);
      assertThat(brokerInList(cli, 4).path("replicas").asInt()).isPositive();

      final Set<String> acked = ConcurrentHashMap.newKeySet();
      final AtomicBoolean running = new AtomicBoolean(true);
      final Thread writer =
          new Thread(() -> produceUntilStopped(cluster.bootstrap(), running, acked), "writer");
      writer.start();
      awaitAcked(acked, 200);

      final Cli.Run done = ok(cli, "broker", "decommission", "4", "--wait", "-o", "json");
      awaitAcked(acked, acked.size() + 200);
      running.set(false);
      writer.join(TimeUnit.SECONDS.toMillis(60));

      assertThat(done.json().path("state").asText()).isEqualTo("decommissioned");
      assertThat(done.json().path("replicas").asInt()).isZero();
      for (JsonNode t : ok(cli, "topic", "describe", "load", "-o", "json").json().path("topics")) {
        for (JsonNode p : t.path("partitions")) {
          assertThat(p.path("replicas").toString())
              .as("replicas of %s", t.path("name").asText())
              .doesNotContain("4");
        }
      }
      assertThat(TopicValues.readUntilAll(cluster.bootstrap(), "load", 8, acked, WAIT))
          .as("every acknowledged record is readable")
          .containsAll(acked);
      awaitHealthy(cli);

      final Cli.Run unregistered = ok(cli, "broker", "unregister", "4");
      assertThat(unregistered.out()).contains("broker 4 no longer receives the metadata log");
      final Cli.Run active = cli.run("broker", "unregister", "1");
      assertThat(active.exit()).isEqualTo(1);
      assertThat(active.err()).contains("broker 1 is active; decommission it first");
    }
  }

  private static Cli cli(BrokerCluster cluster) {
    return Cli.against(cluster, "300s", 1, 2);
  }

  private static Cli.Run ok(Cli cli, String... args) {
    final Cli.Run run = cli.run(args);
    assertThat(run.exit()).as(run.toString()).isZero();
    return run;
  }

  private static JsonNode brokerInList(Cli cli, int id) throws InterruptedException {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode b : ok(cli, "broker", "list", "-o", "json").json().path("brokers")) {
        if (b.path("id").asInt() == id) {
          return b;
        }
      }
      Thread.sleep(500);
    }
    throw new AssertionError("broker " + id + " never listed");
  }

  /** Health is a point in time: a partition whose replicas just moved may still be catching up. */
  private static void awaitHealthy(Cli cli) throws InterruptedException {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    Cli.Run health = cli.run("cluster", "health", "-o", "json");
    while (health.exit() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      health = cli.run("cluster", "health", "-o", "json");
    }
    assertThat(health.exit()).as(health.toString()).isZero();
    final JsonNode status = ok(cli, "cluster", "status", "-o", "json").json();
    assertThat(status.path("under_replicated")).as(status.toString()).isEmpty();
  }

  private static void awaitAcked(Set<String> acked, int count) throws InterruptedException {
    final long deadline = System.nanoTime() + WAIT.toNanos();
    while (acked.size() < count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("only " + acked.size() + " of " + count + " records acked");
      }
      Thread.sleep(100);
    }
  }

  private static Properties producerProps(String bootstrap) {
    final Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return props;
  }

  /** Writes until stopped, remembering the values the brokers acknowledged. */
  private static void produceUntilStopped(
      String bootstrap, AtomicBoolean running, Set<String> acked) {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            producerProps(bootstrap), new StringSerializer(), new StringSerializer())) {
      for (int i = 0; running.get(); i++) {
        final String value = "r" + i;
        producer.send(
            new ProducerRecord<>("load", Integer.toString(i), value),
            (metadata, error) -> {
              if (error == null) {
                acked.add(value);
              }
            });
        Thread.sleep(5);
      }
      producer.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
