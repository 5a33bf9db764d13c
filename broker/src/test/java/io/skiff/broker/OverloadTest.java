package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.BufferExhaustedException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overload: producers offer ten times what a 3-broker cluster replicates (measured first, in the
 * same run), through small produce memory pools. The brokers must throttle them (produce memory
 * waits; the producers' buffers fill and refuse sends), keep the heap below 95 % after every GC,
 * and lose nothing: every acknowledged record is read back, at its acknowledged offset.
 */
class OverloadTest {
  private static final String TOPIC = "overload";
  private static final int PARTITIONS = 6;
  private static final int PRODUCERS = 4;
  private static final int RECORD_BYTES = 1024;
  private static final Duration CALIBRATION = Duration.ofSeconds(5);
  private static final Duration OVERLOAD = Duration.ofSeconds(15);

  @TempDir Path dir;

  /** Acknowledged records: partition and offset to the value's sequence number. */
  private final Map<TopicPartition, Map<Long, Long>> acknowledged = new ConcurrentHashMap<>();

  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  @Test
  void overloadIsThrottledWithinTheHeapAndLosesNothing() throws Exception {
    final HeapWatch heap = new HeapWatch();
    try (BrokerCluster cluster =
            new BrokerCluster(
                dir,
                3,
                Map.of(
                    "skiff.produce.memory.bytes",
                    Integer.toString(1 << 20),
                    "skiff.produce.memory.max.block.ms",
                    "5000"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin
          .createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3)))
          .all()
          .get(60, TimeUnit.SECONDS);
      heap.start();

      final double capacity = calibrate(cluster.bootstrap());
      final double offered = 10 * capacity;
      final long ackedBefore = acked.get();
      offer(cluster.bootstrap(), offered);
      final double ackedRate = (acked.get() - ackedBefore) / (double) OVERLOAD.toSeconds();
      heap.stop();

      final long waits =
          cluster.runningIds().stream()
              .mapToLong(id -> cluster.broker(id).memory().produceMemory().waits())
              .sum();
      System.out.printf(
          "overload: capacity %.0f records/s, offered %.0f/s, acknowledged %.0f/s, refused by"
              + " full producer buffers %d, failed %d, broker produce-memory waits %d, heap after"
              + " GC at most %.1f %% of max%n",
          capacity, offered, ackedRate, refused.get(), failed.get(), waits, heap.maxPercent());

      assertThat(failed.get()).as("records accepted by a producer but not delivered").isZero();
      assertThat(refused.get()).as("producers were held back").isPositive();
      assertThat(waits).as("brokers made produce requests wait for memory").isPositive();
      assertThat(heap.maxPercent()).as("heap after GC, % of max").isLessThan(95);
      assertEveryAcknowledgedRecordIsReadable(cluster.bootstrap());
    } finally {
      heap.stop();
    }
  }

  /** Producers send as fast as they can for a while: what the cluster acknowledges per second. */
  private double calibrate(String bootstrap) throws Exception {
    final long before = acked.get();
    runProducers(bootstrap, Double.MAX_VALUE, CALIBRATION, Long.MAX_VALUE);
    return (acked.get() - before) / (double) CALIBRATION.toSeconds();
  }

  /** Producers offer {@code recordsPerSecond} in all; a send their full buffer refuses counts. */
  private void offer(String bootstrap, double recordsPerSecond) throws Exception {
    runProducers(bootstrap, recordsPerSecond, OVERLOAD, 0);
  }

  private void runProducers(String bootstrap, double totalRate, Duration length, long maxBlockMs)
      throws Exception {
    final List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < PRODUCERS; i++) {
      final Thread t =
          new Thread(() -> produce(bootstrap, totalRate / PRODUCERS, length, maxBlockMs));
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
  }

  private void produce(String bootstrap, double rate, Duration length, long maxBlockMs) {
    final Properties props = KafkaClientsTest.producerProps(bootstrap);
    props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Integer.toString(4 << 20));
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(64 << 10));
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(Math.min(maxBlockMs, 60_000)));
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
    final String padding = "x".repeat(RECORD_BYTES - 20);
    final long start = System.nanoTime();
    final long end = start + length.toNanos();
    long sent = 0;
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      awaitMetadata(producer);
      while (System.nanoTime() < end) {
        if (rate < Double.MAX_VALUE && sent >= rate * (System.nanoTime() - start) / 1e9) {
          Thread.onSpinWait();
          continue;
        }
        sent++;
        final long n = sequence.incrementAndGet();
        try {
          producer.send(
              new ProducerRecord<>(TOPIC, Long.toString(n), n + ":" + padding),
              (metadata, error) -> {
                if (error instanceof BufferExhaustedException) {
                  refused
                      .incrementAndGet(); // the buffer is full: backpressure reached the producer
                  return;
                }
                if (error != null) {
                  failed.incrementAndGet();
                  return;
                }
                acked.incrementAndGet();
                acknowledged
                    .computeIfAbsent(
                        new TopicPartition(TOPIC, metadata.partition()),
                        p -> new ConcurrentHashMap<>())
                    .put(metadata.offset(), n);
              });
        } catch (BufferExhaustedException e) {
          refused.incrementAndGet();
        }
      }
      producer.flush();
    }
  }

  /** With max.block.ms 0 a send fails until the topic's metadata is known: fetch it first. */
  private static void awaitMetadata(KafkaProducer<String, String> producer) {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        producer.partitionsFor(TOPIC);
        return;
      } catch (TimeoutException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.onSpinWait();
      }
    }
  }

  private void assertEveryAcknowledgedRecordIsReadable(String bootstrap) {
    assertThat(acknowledged).isNotEmpty();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(KafkaClientsTest.consumerProps(bootstrap))) {
      final List<TopicPartition> partitions = new ArrayList<>(acknowledged.keySet());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      final Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      final Map<TopicPartition, Map<Long, Long>> read = new ConcurrentHashMap<>();
      final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))
          && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          final long n = Long.parseLong(r.value().substring(0, r.value().indexOf(':')));
          read.computeIfAbsent(
                  new TopicPartition(r.topic(), r.partition()), p -> new ConcurrentHashMap<>())
              .put(r.offset(), n);
        }
      }
      for (Map.Entry<TopicPartition, Map<Long, Long>> e : acknowledged.entrySet()) {
        assertThat(read.get(e.getKey()))
            .as("records of %s read back at their acknowledged offsets", e.getKey())
            .containsAllEntriesOf(e.getValue());
      }
    }
  }

  /** The highest heap occupancy right after a GC, sampled from the heap pools' collection usage. */
  private static final class HeapWatch {
    private final List<MemoryPoolMXBean> pools =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP && p.getCollectionUsage() != null)
            .toList();
    private final long max = Runtime.getRuntime().maxMemory();
    private volatile double maxPercent;
    private volatile boolean running;
    private Thread sampler;

    void start() {
      running = true;
      sampler =
          new Thread(
              () -> {
                while (running) {
                  long used = 0;
                  for (MemoryPoolMXBean pool : pools) {
                    final MemoryUsage after = pool.getCollectionUsage();
                    used += after.getUsed();
                  }
                  maxPercent = Math.max(maxPercent, 100.0 * used / max);
                  try {
                    Thread.sleep(100);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "overload-heap-watch");
      sampler.setDaemon(true);
      sampler.start();
    }

    void stop() throws InterruptedException {
      running = false;
      if (sampler != null) {
        sampler.interrupt();
        sampler.join();
      }
    }

    double maxPercent() {
      return maxPercent;
    }
  }
}
