package io.skiff.bench.sbs;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a whole topic from the beginning with one kafka-clients consumer, client defaults: either
 * in a new consumer group ({@code subscribe}: FindCoordinator, JoinGroup, SyncGroup, offset
 * commits; the clock includes joining, as in Kafka's ConsumerPerformance) or group-less ({@code
 * assign} + {@code seekToBeginning}: Metadata, ListOffsets and Fetch only). Stops after {@link
 * #MAX_RECORDS} records (the same amount on both systems, as ConsumerPerformance's {@code
 * --messages}: a fixed cost such as joining weighs the same), at the topic's end offsets as they
 * were when it started if those come first, or after 30 s without records. Single-threaded.
 */
final class ConsumerRun {
  /** What one read measured; {@code records} below {@code expected} means it gave up. */
  record Outcome(long records, long expected, long bytes, double seconds) {}

  private static final long IDLE_LIMIT_NS = 30_000_000_000L;

  /** About 1 GB of 1 KiB records; a 30 s {@code rf1-max} run writes more on either system. */
  static final long MAX_RECORDS = 1_000_000;

  private ConsumerRun() {}

  static Outcome run(String bootstrap, String topic, boolean group) {
    final Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    if (group) {
      p.put(ConsumerConfig.GROUP_ID_CONFIG, "sbs-" + System.nanoTime());
    } else {
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    }
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      final List<TopicPartition> tps = new ArrayList<>();
      for (PartitionInfo pi : c.partitionsFor(topic)) {
        tps.add(new TopicPartition(topic, pi.partition()));
      }
      final Map<TopicPartition, Long> ends = c.endOffsets(tps);
      final long expected =
          Math.min(MAX_RECORDS, ends.values().stream().mapToLong(Long::longValue).sum());
      final long start = System.nanoTime();
      if (group) {
        c.subscribe(List.of(topic));
      } else {
        c.assign(tps);
        c.seekToBeginning(tps);
      }
      long records = 0;
      long bytes = 0;
      long last = start;
      long end = start;
      while (records < expected && System.nanoTime() - last < IDLE_LIMIT_NS) {
        final ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(100));
        for (ConsumerRecord<byte[], byte[]> r : rs) {
          records++;
          bytes += Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
        }
        if (!rs.isEmpty()) {
          last = end = System.nanoTime();
        }
      }
      return new Outcome(records, expected, bytes, (end - start) / 1e9);
    }
  }
}
