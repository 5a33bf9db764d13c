package io.skiff.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes string values to a topic and reads them back from its start with real Kafka clients, for
 * the broker tests and the command-line tests (through this module's test jar). Stateless: every
 * call opens and closes its own client on the calling thread.
 */
public final class TopicValues {
  private static final Duration POLL = Duration.ofMillis(500);

  private TopicValues() {}

  /**
   * Produces {@code count} records with {@code acks=all}, one at a time (key {@code i}, value
   * {@code v<i>}), each acknowledged before the next is sent; returns the values in order.
   */
  public static List<String> produce(String bootstrap, String topic, int count) throws Exception {
    final Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    final List<String> values = new ArrayList<>();
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < count; i++) {
        final String value = "v" + i;
        producer
            .send(new ProducerRecord<>(topic, Integer.toString(i), value))
            .get(60, TimeUnit.SECONDS);
        values.add(value);
      }
    }
    return values;
  }

  /** Reads from the start of every partition until {@code count} values were read. */
  public static List<String> readCount(
      String bootstrap, String topic, int partitions, int count, Duration timeout) {
    return readFromStart(
        bootstrap, topic, partitions, timeout, new ArrayList<>(), v -> v.size() >= count);
  }

  /** Reads from the start of every partition until every expected value was seen. */
  public static Set<String> readUntilAll(
      String bootstrap,
      String topic,
      int partitions,
      Collection<String> expected,
      Duration timeout) {
    return readFromStart(
        bootstrap, topic, partitions, timeout, new HashSet<>(), v -> v.containsAll(expected));
  }

  /**
   * Assigns partitions {@code 0..partitions-1} of the topic, seeks to their beginning and adds
   * every value read to {@code values} until {@code enough} holds for it or {@code timeout} has
   * passed; returns {@code values}, which the caller checks (a timeout is no error here).
   */
  public static <C extends Collection<String>> C readFromStart(
      String bootstrap,
      String topic,
      int partitions,
      Duration timeout,
      C values,
      Predicate<? super C> enough) {
    final Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    final List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      tps.add(new TopicPartition(topic, p));
    }
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      final long deadline = System.nanoTime() + timeout.toNanos();
      while (!enough.test(values) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(POLL)) {
          values.add(r.value());
        }
      }
    }
    return values;
  }
}
