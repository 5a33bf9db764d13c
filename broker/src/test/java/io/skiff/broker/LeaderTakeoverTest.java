package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.RaftNode;
import io.skiff.raft.leadership.ElectionCounters;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker dies while its groups' election timeouts are far longer than the test: only the
 * survivors' leader takeover (broker-level liveness, then elections started at once on the
 * survivors) can give its partitions, and the metadata group if it led it, new leaders in time.
 */
class LeaderTakeoverTest {
  private static final String TOPIC = "takeover";
  private static final int PARTITIONS = 30;

  /**
   * Election timeouts longer than {@link #TAKEOVER_BOUND}, so that only the takeover elects in
   * time. Their heartbeats, 7.5-15 s apart, also leave the appenders to the stopped broker idle
   * between heartbeats, where Ratis' appender once spun and starved the survivors (patch 0011).
   */
  private static final String ELECTION_TIMEOUT_MIN_MS = "30000";

  private static final String ELECTION_TIMEOUT_MAX_MS = "60000";

  /** Liveness timeout (4 s) + a stagger or two + elections, on a loaded two-core machine. */
  private static final Duration TAKEOVER_BOUND = Duration.ofSeconds(20);

  @TempDir Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void survivorsTakeOverTheGroupsOfAStoppedBrokerLongBeforeTheirElectionTimeouts()
      throws Exception {
    try (BrokerCluster cluster =
            new BrokerCluster(
                dir,
                3,
                Map.of(
                    "raft.election.timeout.min.ms", ELECTION_TIMEOUT_MIN_MS,
                    "raft.election.timeout.max.ms", ELECTION_TIMEOUT_MAX_MS));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()));
        KafkaProducer<String, String> producer =
            new KafkaProducer<>(producerProps(cluster.bootstrap()))) {
      admin
          .createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
          .all()
          .get(2, TimeUnit.MINUTES);
      cluster.awaitLeaders(TOPIC, Duration.ofMinutes(2));
      produceToEveryPartition(producer);

      final int victim = leadingTheMost(cluster);
      final List<Integer> led = cluster.ledBy(victim, TOPIC, PARTITIONS);
      final long stopped = System.nanoTime();
      cluster.stop(victim); // closes its Raft server: no leadership handed over
      report("broker %d led %d partitions; stopped in %d ms", victim, led.size(), msSince(stopped));
      final List<Integer> survivors = cluster.runningIds();
      final AtomicInteger mostUnreachable = new AtomicInteger();
      final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
      sampler.scheduleAtFixedRate(
          () ->
              survivors.forEach(
                  id ->
                      mostUnreachable.accumulateAndGet(
                          cluster.broker(id).raft().unreachablePeers(), Math::max)),
          0,
          50,
          TimeUnit.MILLISECONDS);
      final long deadline = stopped + TAKEOVER_BOUND.toNanos();
      for (int partition : led) {
        while (cluster.readyLeader(TOPIC, partition).isEmpty()) {
          assertThat(System.nanoTime())
              .as("%s-%d is led by a survivor within %s", TOPIC, partition, TAKEOVER_BOUND)
              .isLessThan(deadline);
          Thread.sleep(20);
        }
      }
      report("all %d led by survivors %d ms after the stop", led.size(), msSince(stopped));
      assertThat(cluster.runningIds().stream().mapToLong(id -> takeovers(cluster, id)).sum())
          .as("elections the survivors started for the stopped broker's groups")
          .isGreaterThanOrEqualTo(led.size());
      produceToEveryPartition(producer);
      // The takeover is quick (elections start in the tick that finds the broker unreachable), so
      // the sampler may not have run since: each survivor is asked directly as well. The stopped
      // broker stays unreachable until it returns (a stall of the survivor itself never revives
      // it).
      for (int id : survivors) {
        while (cluster.broker(id).raft().unreachablePeers() != 1) {
          assertThat(System.nanoTime())
              .as("broker %d counts the stopped broker unreachable within %s", id, TAKEOVER_BOUND)
              .isLessThan(deadline);
          Thread.sleep(20);
        }
        assertThat(cluster.broker(id).raft().reachablePeers())
            .as("broker %d counts the other survivor reachable", id)
            .containsExactlyElementsOf(
                survivors.stream().filter(s -> s != id).map(RaftNode::peerId).toList());
      }
      sampler.shutdownNow();
      assertThat(mostUnreachable.get())
          .as("brokers a survivor counted unreachable: the stopped one, never the other survivor")
          .isLessThanOrEqualTo(1);

      final Map<Integer, Long> electionsBefore = elections(cluster);
      cluster.start(victim);
      cluster.awaitLeaders(TOPIC, Duration.ofMinutes(2));
      awaitUnreachableCleared(cluster, Duration.ofSeconds(30));
      Thread.sleep(5_000); // long enough for a storm to show in the counters
      final Map<Integer, Long> electionsAfter = elections(cluster);
      report("elections while %d rejoined: %s -> %s", victim, electionsBefore, electionsAfter);
      assertThat(electionsAfter)
          .as("no election on the survivors nor on the rejoining broker")
          .containsAllEntriesOf(electionsBefore)
          .containsEntry(victim, 0L);
      for (int partition = 0; partition < PARTITIONS; partition++) {
        assertThat(cluster.readyLeader(TOPIC, partition))
            .as("%s-%d has a leader", TOPIC, partition)
            .isPresent();
      }
      produceToEveryPartition(producer);
    }
  }

  private static long takeovers(BrokerCluster cluster, int id) {
    return cluster.broker(id).raft().leaderTakeovers();
  }

  private static void awaitUnreachableCleared(BrokerCluster cluster, Duration timeout)
      throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    for (int id : cluster.runningIds()) {
      while (cluster.broker(id).raft().unreachablePeers() > 0) {
        assertThat(System.nanoTime())
            .as("broker %d counts every peer reachable again within %s", id, timeout)
            .isLessThan(deadline);
        Thread.sleep(50);
      }
    }
  }

  private static Map<Integer, Long> elections(BrokerCluster cluster) {
    final Map<Integer, Long> elections = new TreeMap<>();
    for (int id : cluster.runningIds()) {
      elections.put(id, new ElectionCounters(cluster.broker(id).raft().self().getId()).elections());
    }
    return elections;
  }

  private static int leadingTheMost(BrokerCluster cluster) {
    int most = -1;
    int count = -1;
    for (int id : cluster.runningIds()) {
      final int led = cluster.ledBy(id, TOPIC, PARTITIONS).size();
      if (led > count) {
        most = id;
        count = led;
      }
    }
    return most;
  }

  private static void produceToEveryPartition(KafkaProducer<String, String> producer)
      throws Exception {
    final long started = System.nanoTime();
    final List<Future<RecordMetadata>> acks = new ArrayList<>();
    for (int partition = 0; partition < PARTITIONS; partition++) {
      acks.add(producer.send(new ProducerRecord<>(TOPIC, partition, null, "v" + partition)));
    }
    for (Future<RecordMetadata> ack : acks) {
      assertThat(ack.get(2, TimeUnit.MINUTES).hasOffset()).isTrue();
    }
    report("acks=all produce to %d partitions took %d ms", PARTITIONS, msSince(started));
  }

  private static Properties producerProps(String bootstrap) {
    final Properties p = KafkaClientsTest.producerProps(bootstrap);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "110000");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
    return p;
  }

  private static long msSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  private static void report(String format, Object... args) {
    System.out.printf("LeaderTakeoverTest: " + format + "%n", args);
  }
}
