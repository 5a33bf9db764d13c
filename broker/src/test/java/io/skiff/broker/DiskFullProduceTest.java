package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.testing.SmallTmpfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A broker whose data directory is a small tmpfs (mounting one needs root; skipped, saying so,
 * where {@code mount} is not permitted) that fills up: produce is refused with KAFKA_STORAGE_ERROR,
 * reads go on, nothing acknowledged is lost, and produce works again by itself once space is freed.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DiskFullProduceTest {
  private static final long WAIT_S = 60;

  @RegisterExtension final SmallTmpfs tmpfs = SmallTmpfs.perTest("64m", "disk-full test");

  @Test
  void fullDiskRefusesProduceWithStorageErrorServesReadsAndRecoversWhenSpaceIsFreed()
      throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(tmpfs.path(), 1, Map.of());
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()));
        KafkaProducer<String, String> producer =
            new KafkaProducer<>(KafkaClientsTest.noRetriesProducerProps(cluster.bootstrap()))) {
      admin
          .createTopics(List.of(new NewTopic("full", 1, (short) 1)))
          .all()
          .get(WAIT_S, TimeUnit.SECONDS);
      final List<String> acknowledged = new ArrayList<>();
      sendUntilAcknowledged(producer, "before-0", acknowledged); // the partition has a leader
      for (int i = 1; i < 10; i++) {
        assertThat(send(producer, "before-" + i)).isNull();
        acknowledged.add("before-" + i);
      }

      final Path filler = tmpfs.path().resolve("filler");
      fill(filler, 256 << 10);
      final Throwable refused = send(producer, "while-full");
      assertThat(refused)
          .as("produce on a full disk")
          .isInstanceOf(KafkaStorageException.class)
          .hasMessageContaining("is full");
      assertThat(read(cluster))
          .as("reads go on while the disk is full, with every acknowledged record")
          .containsExactlyElementsOf(acknowledged);

      Files.delete(filler);
      sendUntilAcknowledged(producer, "after", acknowledged);
      assertThat(read(cluster)).containsExactlyElementsOf(acknowledged);
    }
  }

  private static void sendUntilAcknowledged(
      KafkaProducer<String, String> producer, String value, List<String> acknowledged)
      throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
    Throwable error;
    while ((error = send(producer, value)) != null && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertThat(error).as("%s acknowledged within %d s", value, WAIT_S).isNull();
    acknowledged.add(value);
  }

  private static Throwable send(KafkaProducer<String, String> producer, String value)
      throws InterruptedException {
    try {
      producer.send(new ProducerRecord<>("full", 0, null, value)).get(WAIT_S, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (java.util.concurrent.TimeoutException e) {
      return e;
    }
  }

  private static List<String> read(BrokerCluster cluster) {
    return KafkaClientsTest.readPartition(
        cluster.bootstrap(), new TopicPartition("full", 0), Duration.ofSeconds(WAIT_S));
  }

  /** Writes {@code filler} until the disk is full, then frees {@code leaveFree} bytes of it. */
  private static void fill(Path filler, int leaveFree) throws IOException {
    SmallTmpfs.fill(filler, 64 << 10, written -> Math.max(0, written - leaveFree));
  }
}
