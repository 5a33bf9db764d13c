package io.skiff.bench.sbs;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Asks a topic's partitions, through a Kafka client, whether they serve again after their broker
 * restarted: one record is sent to each partition ({@code acks=all}, retried with short backoffs
 * until it is acknowledged), and the offset each is acknowledged at shows whether the partition
 * still ends where it did before the restart. Not thread-safe.
 */
final class ServingProbe {
  /**
   * When the last partition acknowledged its record, in seconds after {@code fromNanos}, and how
   * many records below the ends taken before the restart are gone (0 when every partition's new
   * record landed at its old end or later).
   */
  record Outcome(double seconds, long lostRecords) {}

  private ServingProbe() {}

  /** Each partition's end offset now (the offset its next record gets). */
  static Map<TopicPartition, Long> endOffsets(String bootstrap, String topic, int partitions)
      throws Exception {
    final Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      final Map<TopicPartition, Long> ends = new HashMap<>();
      admin
          .listOffsets(latest)
          .all()
          .get(2, TimeUnit.MINUTES)
          .forEach((tp, info) -> ends.put(tp, info.offset()));
      return ends;
    }
  }

  /**
   * Sends one record to every partition of {@code ends} and waits, at most {@code timeout}, until
   * each is acknowledged.
   */
  static Outcome await(
      String bootstrap, Map<TopicPartition, Long> ends, long fromNanos, Duration timeout)
      throws Exception {
    final Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    // One record per partition and no retried duplicates to reason about.
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    p.put(ProducerConfig.RETRIES_CONFIG, Integer.toString(Integer.MAX_VALUE));
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(timeout.toMillis()));
    // Short backoffs, so that the probe notices a partition serving within a fraction of a second.
    p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "20");
    p.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "200");
    p.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, "20");
    p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
    p.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, "1000");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    final long[] ackedNanos = new long[ends.size()];
    final List<TopicPartition> partitions = new ArrayList<>(ends.keySet());
    final List<Future<RecordMetadata>> acks = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < partitions.size(); i++) {
        final int slot = i;
        final TopicPartition tp = partitions.get(i);
        acks.add(
            producer.send(
                new ProducerRecord<>(tp.topic(), tp.partition(), null, new byte[] {1}),
                (metadata, e) -> ackedNanos[slot] = System.nanoTime()));
      }
      long last = fromNanos;
      long lost = 0;
      for (int i = 0; i < partitions.size(); i++) {
        final RecordMetadata acked =
            acks.get(i).get(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
        lost += Math.max(0, ends.get(partitions.get(i)) - acked.offset());
        last = Math.max(last, ackedNanos[i]);
      }
      return new Outcome((last - fromNanos) / 1e9, lost);
    }
  }
}
