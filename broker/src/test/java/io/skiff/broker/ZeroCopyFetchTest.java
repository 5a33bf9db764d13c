package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fetch never copies record bytes into the heap: serving 100 MiB allocates under 1 MiB. */
class ZeroCopyFetchTest {
  private static final int MIB = 1 << 20;

  @TempDir Path dir;

  @Test
  void fetchingOneHundredMebibytesAllocatesLessThanOneMebibyteOfBrokerHeap() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 1, Map.of())) {
      final String bootstrap = cluster.bootstrap();
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin
            .createTopics(List.of(new NewTopic("bulk", 1, (short) 1)))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      final Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ProducerConfig.ACKS_CONFIG, "1");
      p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024));
      p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
      p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      final byte[] value = new byte[8 * 1024];
      final int records = 100 * MIB / value.length;
      final int warmUp =
          10 * MIB / value.length; // consumed first, so the JIT has compiled the path
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
        for (int i = 0; i < warmUp + records; i++) {
          producer.send(new ProducerRecord<>("bulk", 0, null, value));
        }
        producer.flush();
      }

      final Properties c = new Properties();
      c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(8 * MIB));
      c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(8 * MIB));
      c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
      c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
      c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
      long zeroCopyBefore = 0;
      long allocatedBefore = 0;
      long consumed = 0;
      try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
        final TopicPartition tp = new TopicPartition("bulk", 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        int warmed = 0;
        while (warmed < warmUp && System.nanoTime() < deadline) {
          warmed += consumer.poll(Duration.ofMillis(500)).count();
        }
        consumer.seek(tp, warmUp);
        zeroCopyBefore = cluster.broker(1).networkMetrics().zeroCopyBytes();
        allocatedBefore = brokerThreadsAllocatedBytes();
        int seen = 0;
        while (seen < records && System.nanoTime() < deadline) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            seen++;
            consumed += r.value().length;
          }
        }
        assertThat(seen).isEqualTo(records);
      }
      final long allocated = brokerThreadsAllocatedBytes() - allocatedBefore;
      final long zeroCopied = cluster.broker(1).networkMetrics().zeroCopyBytes() - zeroCopyBefore;
      System.out.printf(
          "fetched %d MiB of values; %d MiB sent by sendfile; broker threads allocated %d KiB%n",
          consumed / MIB, zeroCopied / MIB, allocated / 1024);
      assertThat(zeroCopied).isGreaterThanOrEqualTo(100L * MIB);
      assertThat(allocated).isLessThan(MIB);
    }
  }

  /** Heap allocated so far by the threads that serve Kafka requests. */
  private static long brokerThreadsAllocatedBytes() {
    final com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long total = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      final String name = t.getName();
      if (name.startsWith("skiff-network")
          || name.startsWith("skiff-request")
          || name.startsWith("skiff-accept")) {
        total += Math.max(0, threads.getThreadAllocatedBytes(t.threadId()));
      }
    }
    return total;
  }
}
