package io.skiff.broker;

import io.skiff.testing.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Background produce load for tests that move replicas while clients write: one idempotent acks=all
 * producer on its own platform thread writes the numbers 0, 1, 2, … as values round-robin over a
 * topic's partitions until stopped, flushing every 20 records and pausing a moment after each flush
 * so that a bounded number of records is in flight. It remembers, per partition, the values the
 * brokers acknowledged, and the first send that failed.
 *
 * <pre>{@code
 * try (ProduceLoad load = ProduceLoad.start(cluster.bootstrap(), "moves", 4, Duration.ofMillis(20))) {
 *   load.awaitAcknowledged(100, Await.atMost(Duration.ofSeconds(60)));
 *   // move replicas …
 *   assertThat(load.failure()).isNull();
 * }
 * }</pre>
 *
 * <p>Thread-safe: the producer thread and its callbacks write, the test thread reads.
 */
final class ProduceLoad implements AutoCloseable {
  private static final Duration JOIN_ON_CLOSE = Duration.ofSeconds(60);

  private final String topic;
  private final int partitions;
  private final Duration pause;
  private final Properties props;
  private final Map<Integer, List<Long>> acknowledged = new ConcurrentHashMap<>();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final Thread thread;
  private volatile Exception failure;

  private ProduceLoad(String bootstrap, String topic, int partitions, Duration pause) {
    this.topic = topic;
    this.partitions = partitions;
    this.pause = pause;
    this.props = KafkaClientsTest.producerProps(bootstrap);
    props.put(ProducerConfig.RETRIES_CONFIG, Integer.toString(Integer.MAX_VALUE));
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    for (int p = 0; p < partitions; p++) {
      acknowledged.put(p, Collections.synchronizedList(new ArrayList<>()));
    }
    this.thread = Thread.ofPlatform().name("test-load-" + topic).unstarted(this::run);
  }

  /**
   * Starts writing to partitions {@code 0 .. partitions - 1} of {@code topic}, pausing {@code
   * pause} after every 20 records.
   */
  static ProduceLoad start(String bootstrap, String topic, int partitions, Duration pause) {
    final ProduceLoad load = new ProduceLoad(bootstrap, topic, partitions, pause);
    load.thread.start();
    return load;
  }

  private void run() {
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (long seq = 0; !stopped.get(); seq++) {
        final int partition = (int) (seq % partitions);
        final long value = seq;
        producer.send(
            new ProducerRecord<>(topic, partition, null, Long.toString(seq)),
            (metadata, error) -> {
              if (error == null) {
                acknowledged.get(partition).add(value);
              } else if (failure == null) {
                failure = error;
              }
            });
        if (seq % 20 == 19) {
          producer.flush();
          Thread.sleep(pause.toMillis());
        }
      }
      producer.flush();
    } catch (Exception e) {
      failure = e;
    }
  }

  /** The first send that failed, or the producer's own failure; null while every send succeeded. */
  Exception failure() {
    return failure;
  }

  /** How many records the brokers acknowledged so far, over all partitions. */
  long acknowledgedCount() {
    return acknowledged.values().stream().mapToLong(List::size).sum();
  }

  /** The values of {@code partition} acknowledged so far, in the order of their acknowledgement. */
  List<Long> acknowledged(int partition) {
    final List<Long> values = acknowledged.get(partition);
    synchronized (values) {
      return List.copyOf(values);
    }
  }

  /** Returns once {@code count} records are acknowledged; fails as {@code await} does. */
  void awaitAcknowledged(long count, Await await) throws InterruptedException {
    await.until(count + " records acknowledged", () -> acknowledgedCount() >= count);
  }

  /** Stops writing and waits up to {@code within} for the producer to flush and close. */
  void stop(Duration within) throws InterruptedException {
    stopped.set(true);
    thread.join(within.toMillis());
  }

  /**
   * Stops writing, waiting up to 60 s for the producer to flush and close; an interrupt ends the
   * wait and stays set on the calling thread.
   */
  @Override
  public void close() {
    try {
      stop(JOIN_ON_CLOSE);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
