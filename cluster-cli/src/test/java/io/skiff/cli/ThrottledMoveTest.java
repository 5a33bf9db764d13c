package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.skiff.broker.Broker;
import io.skiff.log.SegmentedLog;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Command tests of throttled moves: a topic of 8 KiB records with two replicas a partition on the
 * three brokers, a fourth broker that joins empty, a plan that {@code skiff partition reassign
 * --generate} makes to move the topic to brokers 1 and 4, and its execution under a replication
 * throttle; then how many bytes broker 4 holds, and whether every record reads back intact.
 *
 * <p>Not thread-safe: JUnit runs a class's tests one after another on one instance.
 */
abstract class ThrottledMoveTest extends ThreeBrokerCommandTest {
  static final int RECORD_BYTES = 8 * 1024;

  /** A move planned but not executed yet: the broker that joined, and the plan file. */
  record PlannedMove(Broker joined, Path plan) {}

  /**
   * Creates {@code topic} with two replicas a partition, writes {@code records} to it, starts
   * broker 4 and writes the generated plan that moves the topic to brokers 1 and 4 to {@code
   * planFile}.
   */
  PlannedMove planMoveToANewBroker(String topic, int partitions, int records, String planFile)
      throws Exception {
    ok("topic", "create", topic, "-p", Integer.toString(partitions), "-r", "2");
    produce(cluster.bootstrap(), topic, partitions, records);
    final Broker four = cluster.addBroker(4);
    final Path plan = dir.resolve(planFile);
    Files.writeString(
        plan,
        ok("partition", "reassign", "--generate", "--topics", topic, "--brokers", "1,4").out());
    return new PlannedMove(four, plan);
  }

  /** Executes the plan with new replicas catching up at most {@code throttle} bytes a second. */
  Cli.Run executeThrottled(Path plan, long throttle) {
    return ok(
        "partition",
        "reassign",
        "--plan",
        plan.toString(),
        "--execute",
        "--max-bytes-per-sec",
        Long.toString(throttle));
  }

  /**
   * The replication throttle that {@code skiff cluster status -o json} shows; a JSON null when
   * none.
   */
  JsonNode statusThrottle() {
    return ok("cluster", "status", "-o", "json").json().path("replication_throttle_bytes_per_sec");
  }

  /** The bytes of {@code topic}'s replicas on {@code broker}. */
  static long bytesOn(Broker broker, String topic) {
    long bytes = 0;
    for (ReplicatedPartition p : broker.raft().partitions()) {
      final SegmentedLog log = p.log(); // null while the replica starts
      if (p.id().topic().equals(topic) && log != null) {
        bytes += log.sizeInBytes();
      }
    }
    return bytes;
  }

  static byte[] valueOf(int i) {
    final byte[] value = new byte[RECORD_BYTES];
    new SplittableRandom(i).nextBytes(value);
    return value;
  }

  /** Writes {@code records} values of 8 KiB round-robin over the partitions, keyed by index. */
  static void produce(String bootstrap, String topic, int partitions, int records)
      throws Exception {
    final Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 60_000);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      final List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < records; i++) {
        sent.add(
            producer.send(
                new ProducerRecord<>(
                    topic, i % partitions, Integer.toString(i).getBytes(), valueOf(i))));
      }
      for (Future<RecordMetadata> f : sent) {
        f.get(5, TimeUnit.MINUTES);
      }
    }
  }

  /** Reads the topic from the start: every record written by {@link #produce}, intact. */
  static void assertEveryRecordReadable(
      String bootstrap, String topic, int partitions, int records) {
    final Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("max.partition.fetch.bytes", 4 << 20);
    final List<TopicPartition> tps = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      tps.add(new TopicPartition(topic, p));
    }
    final boolean[] seen = new boolean[records];
    int count = 0;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (count < records && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          final int i = Integer.parseInt(new String(r.key()));
          assertThat(Arrays.equals(r.value(), valueOf(i))).as("record " + i).isTrue();
          if (!seen[i]) {
            seen[i] = true;
            count++;
          }
        }
      }
    }
    assertThat(count).as("records read back").isEqualTo(records);
  }
}
