package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.skiff.testing.ListenPorts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * librdkafka's idempotent producer retrying batches the broker already stored; the broker must
 * answer each retry as Kafka 4.4.0 does (NONE with the original base offset), so that every message
 * is delivered and stored once, in order. Two ways of losing the answers:
 *
 * <ul>
 *   <li>on the wire: the broker's Kafka listener binds 127.0.0.2 and advertises 127.0.0.1 (where
 *       its Raft port is), and on 127.0.0.1 a {@link ResponseDroppingProxy} loses Produce responses
 *       after the first; the client times out, reconnects and retries (confluent-kafka-python);
 *   <li>in the client: librdkafka's own idempotence test 0090 ("implicit ack") as a C program built
 *       against {@code librdkafka-dev}, which reports the first responses as timed out through the
 *       library's {@code ut_handle_ProduceResponse} hook while later batches are acknowledged.
 * </ul>
 *
 * Each skips with a clear message where its runtime is missing.
 */
class LibrdkafkaIdempotentRetryTest {
  private static final Path PYTHON_SCRIPT =
      Path.of("src/test/compat/python/idempotent_retries.py").toAbsolutePath();
  private static final Path C_PROGRAM =
      Path.of("src/test/compat/c/implicit_ack.c").toAbsolutePath();
  private static final int COUNT = 100;

  @TempDir Path dir;

  @Test
  void batchesWhoseResponsesWereLostOnTheWireAreDeliveredOnce() throws Exception {
    final String python =
        ConfluentKafkaPython.interpreterOrSkip("librdkafka idempotent retry check");
    final int kafkaPort = ListenPorts.free();
    final InetSocketAddress brokerAddress =
        new InetSocketAddress(InetAddress.getByName("127.0.0.2"), kafkaPort);
    try (BrokerCluster cluster =
            new BrokerCluster(
                dir,
                1,
                Map.of(
                    "listener.host", "127.0.0.2",
                    "advertised.host", "127.0.0.1",
                    "listener.port", Integer.toString(kafkaPort)));
        ResponseDroppingProxy proxy =
            new ResponseDroppingProxy(
                ResponseDroppingProxy.loopback(kafkaPort), brokerAddress, 1, 5);
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin.createTopics(List.of(new NewTopic("lost-acks", 1, (short) 1))).all().get();
      final String out =
          ExternalCommand.of(
                  python,
                  PYTHON_SCRIPT.toString(),
                  cluster.bootstrap(),
                  "lost-acks",
                  Integer.toString(COUNT))
              .timeout(Duration.ofMinutes(5))
              .run();
      assertThat(out.strip())
          .isEqualTo(
              "{\"delivered\": "
                  + COUNT
                  + ", \"distinct_offsets\": "
                  + COUNT
                  + ", \"undelivered\": 0, \"failures\": [], \"stored\": "
                  + COUNT
                  + ", \"stored_in_order\": true}");
      assertThat(proxy.dropped()).isEqualTo(5);
    }
  }

  @Test
  void implicitlyAcknowledgedRetriesAreDeliveredOnceAsInLibrdkafkaTest0090() throws Exception {
    assumeTrue(
        ExternalCommand.available("gcc", "--version")
            && ExternalCommand.available("pkg-config", "--exists", "rdkafka")
            && ExternalCommand.available("kcat", "-V"),
        "gcc, librdkafka-dev or kcat is missing (apt-get install gcc pkg-config librdkafka-dev"
            + " kcat); skipping librdkafka's implicit-ack check");
    final Path program = dir.resolve("implicit_ack");
    ExternalCommand.of(
            "sh",
            "-c",
            "gcc -Wall -o '"
                + program
                + "' '"
                + C_PROGRAM
                + "' $(pkg-config --cflags --libs rdkafka)")
        .run();
    // min.insync.replicas=2 as ./skiff dev runs, where test 0090's single-replica topics got
    // NOT_ENOUGH_REPLICAS until every message timed out (the in-sync floor was not capped at RF).
    try (BrokerCluster cluster =
            new BrokerCluster(dir.resolve("cluster"), 3, Map.of("min.insync.replicas", "2"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      // As test 0090: within the broker's window of 5 batches per producer, and beyond it.
      admin
          .createTopics(
              List.of(new NewTopic("within", 1, (short) 1), new NewTopic("beyond", 1, (short) 1)))
          .all()
          .get();
      assertThat(implicitAck(program, cluster, "within", 10, 5))
          .isEqualTo("delivered=100 failed=0");
      assertThat(implicitAck(program, cluster, "beyond", 8, 8)).isEqualTo("delivered=80 failed=0");
      for (String topic : List.of("within", "beyond")) {
        final List<String> stored =
            ExternalCommand.of(
                    "kcat", "-b", cluster.bootstrap(), "-t", topic, "-C", "-e", "-q", "-f", "%s\n")
                .run()
                .lines()
                .toList();
        final int expected = topic.equals("within") ? 100 : 80;
        assertThat(stored).hasSize(expected).doesNotHaveDuplicates();
      }
    }
  }

  private static String implicitAck(
      Path program, BrokerCluster cluster, String topic, int batches, int fail) throws Exception {
    return ExternalCommand.of(
            program.toString(),
            cluster.bootstrap(),
            topic,
            Integer.toString(batches),
            Integer.toString(fail))
        .timeout(Duration.ofMinutes(3))
        .run()
        .strip();
  }
}
