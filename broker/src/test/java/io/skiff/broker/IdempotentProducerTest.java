package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.FetchSlice;
import io.skiff.log.RecordBatch;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java producer with its defaults (idempotent, acks=all, five requests in flight) against three
 * brokers while a partition leader is stopped mid-stream, requests still in flight: every record is
 * in the log exactly once, in the order sent.
 */
class IdempotentProducerTest {
  private static final Logger LOG = LoggerFactory.getLogger(IdempotentProducerTest.class);
  private static final String TOPIC = "payments";
  private static final int PARTITIONS = 2;
  private static final int PER_PARTITION = 6_000;

  @TempDir Path dir;

  @Test
  void aDefaultProducerWritesEachRecordOnceInOrderAcrossALeaderKill() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of())) {
      final String bootstrap = cluster.bootstrap();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin
            .createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      leadBothPartitionsFromOneBroker(cluster);
      final List<CompletableFuture<RecordMetadata>> sends = produceKillingALeader(cluster);
      for (CompletableFuture<RecordMetadata> send : sends) {
        assertThat(send.get(3, TimeUnit.MINUTES).offset()).isNotNegative();
      }

      final List<List<String>> read = KafkaClientsTest.readPartitions(bootstrap, TOPIC, PARTITIONS);
      for (int p = 0; p < PARTITIONS; p++) {
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < PER_PARTITION; i++) {
          expected.add(p + "-" + i);
        }
        assertThat(read.get(p))
            .as("partition %d: each record once, in order", p)
            .isEqualTo(expected);
      }
      assertThat(firstProducerId(cluster)).as("the producer was idempotent").isNotNegative();
      LOG.info("Retries answered as duplicates: {}", duplicates(cluster));
    }
  }

  /**
   * Moves partition 1's leadership to partition 0's leader, so that every produce request goes to
   * the broker the test stops: a request in flight when it stops is then one it must retry.
   */
  private static void leadBothPartitionsFromOneBroker(BrokerCluster cluster) throws Exception {
    cluster.awaitTopic(TOPIC, Duration.ofSeconds(60));
    final var topic = cluster.broker(1).raft().metadata().image().topic(TOPIC).orElseThrow();
    int leader;
    while ((leader = leaderOf(cluster, 0)) != leaderOf(cluster, 1)) {
      cluster.moveLeadership(topic.partition(1), leader, Duration.ofSeconds(60));
    }
  }

  /**
   * Sends every record, paced, stopping the partitions' leader once a third are acknowledged and
   * the producer has requests in flight to it (its followers are stopped first and then started
   * again, so that those requests cannot complete before it stops), so their retries reach the new
   * leaders; checks the producer had to retry.
   */
  private static List<CompletableFuture<RecordMetadata>> produceKillingALeader(
      BrokerCluster cluster) throws Exception {
    final Properties props = producerProps(cluster.bootstrap());
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    final AtomicInteger acknowledged = new AtomicInteger();
    final AtomicReference<DoubleSupplier> requestsInFlight = new AtomicReference<>();
    final List<CompletableFuture<RecordMetadata>> sends = new ArrayList<>();
    final int leader = leaderOf(cluster, 0);
    final CountDownLatch stopping = new CountDownLatch(1);
    final Thread killer =
        new Thread(
            () -> {
              try {
                while (acknowledged.get() < PARTITIONS * PER_PARTITION / 3) {
                  Thread.sleep(1);
                }
                // The followers stop first: nothing the leader is sent from then on commits, so
                // requests are in flight to it when it stops, however fast it answered before.
                final List<Integer> followers =
                    cluster.runningIds().stream().filter(id -> id != leader).toList();
                followers.forEach(cluster::stop);
                while (requestsInFlight.get() == null || requestsInFlight.get().getAsDouble() < 1) {
                  Thread.sleep(1);
                }
                stopping.countDown();
                cluster.stop(leader); // requests to it are in flight: their retries must not repeat
                startTogether(cluster, followers); // they elect new leaders; it stays down
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "leader-killer");
    killer.start();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      requestsInFlight.set(() -> producerMetric(producer, "requests-in-flight"));
      for (int i = 0; i < PER_PARTITION; i++) {
        for (int p = 0; p < PARTITIONS; p++) {
          final CompletableFuture<RecordMetadata> sent = new CompletableFuture<>();
          producer.send(
              new ProducerRecord<>(TOPIC, p, null, p + "-" + i),
              (metadata, error) -> {
                if (error != null) {
                  sent.completeExceptionally(error);
                } else {
                  acknowledged.incrementAndGet();
                  sent.complete(metadata);
                }
              });
          sends.add(sent);
        }
        if (i % 20 == 0) {
          Thread.sleep(1);
        }
        if (i >= PER_PARTITION / 2 && stopping.getCount() > 0) {
          Thread.sleep(2); // keep requests flowing, and the second half unsent, until the stop
        }
      }
      assertThat(stopping.getCount())
          .as("the leader stopped while records were being sent")
          .isZero();
      producer.flush();
      assertThat(retries(producer)).as("records retried after the leader stopped").isPositive();
    }
    killer.join(TimeUnit.MINUTES.toMillis(1));
    assertThat(cluster.runningIds()).doesNotContain(leader);
    assertThat(
            cluster.runningIds().stream()
                .mapToLong(
                    id ->
                        ((Number)
                                cluster
                                    .broker(id)
                                    .metrics()
                                    .getGauges()
                                    .get("producers.idempotent")
                                    .getValue())
                            .longValue())
                .sum())
        .as("the brokers' producers.idempotent gauges count the producer's state")
        .isPositive();
    return sends;
  }

  /** Starts the brokers at once: each waits for the others to form the metadata quorum. */
  private static void startTogether(BrokerCluster cluster, List<Integer> ids)
      throws InterruptedException {
    final List<Thread> starters = new ArrayList<>();
    for (int id : ids) {
      starters.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      cluster.start(id);
                    } catch (Exception e) {
                      throw new IllegalStateException("broker " + id + " did not start", e);
                    }
                  }));
    }
    for (Thread t : starters) {
      t.join();
    }
  }

  private static double retries(KafkaProducer<String, String> producer) {
    return producerMetric(producer, "record-retry-total");
  }

  private static double producerMetric(KafkaProducer<String, String> producer, String name) {
    return producer.metrics().entrySet().stream()
        .filter(e -> e.getKey().name().equals(name))
        .filter(e -> e.getKey().group().equals("producer-metrics"))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
        .sum();
  }

  /** The Java producer's defaults: only addresses and serializers set. */
  private static Properties producerProps(String bootstrap) {
    final Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return p;
  }

  private static long duplicates(BrokerCluster cluster) {
    long total = 0;
    for (int id : cluster.runningIds()) {
      final var raft = cluster.broker(id).raft();
      final var topic = raft.metadata().image().topic(TOPIC).orElseThrow();
      for (int p = 0; p < PARTITIONS; p++) {
        total +=
            raft.partition(topic.partition(p))
                .map(ReplicatedPartition::duplicateAppends)
                .orElse(0L);
      }
    }
    return total;
  }

  /** The producer id in the first batch of partition 1 on a running broker. */
  private static long firstProducerId(BrokerCluster cluster) throws Exception {
    final Broker broker = cluster.broker(cluster.runningIds().get(0));
    final var topic = broker.raft().metadata().image().topic(TOPIC).orElseThrow();
    final ReplicatedPartition replica = broker.raft().partition(topic.partition(1)).orElseThrow();
    final FetchSlice slice = replica.read(0, 1);
    final ByteBuffer bytes = slice.copyToHeap();
    return new RecordBatch().wrap(bytes, 0).producerId();
  }

  private static int leaderOf(BrokerCluster cluster, int partition) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      for (int id : cluster.runningIds()) {
        final Broker broker = cluster.broker(id);
        final var info = broker.raft().metadata().image().topic(TOPIC);
        if (info.isEmpty()) {
          continue;
        }
        final var replica = broker.raft().partition(info.get().partition(partition));
        if (replica.isPresent() && replica.get().isLeaderReady()) {
          return id;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no leader for " + TOPIC + "-" + partition);
  }
}
