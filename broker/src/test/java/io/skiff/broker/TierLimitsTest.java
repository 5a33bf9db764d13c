package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tier's connection and partition limits on a real broker. */
class TierLimitsTest {
  @TempDir Path dir;

  @Test
  void connectionsOverTheLimitAreClosedAndCounted() throws Exception {
    try (BrokerCluster cluster =
        new BrokerCluster(dir, 1, Map.of("skiff.tier", "dev", "max.connections", "3"))) {
      final Broker broker = cluster.broker(1);
      final List<RawKafkaClient> open = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          final RawKafkaClient client = new RawKafkaClient(broker.kafkaPort());
          open.add(client);
          assertThat(apiVersions(client)).isEqualTo(Errors.NONE);
        }
        assertClosedByBroker(broker.kafkaPort());
        assertThat(broker.networkMetrics().rejectedConnections()).isEqualTo(1);
        assertThat(broker.metrics().getCounters().get("kafka.connections.rejected").getCount())
            .isEqualTo(1);
        assertThat(apiVersions(open.get(0))).isEqualTo(Errors.NONE); // the others carry on
      } finally {
        for (RawKafkaClient c : open) {
          c.close();
        }
      }
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (broker.networkMetrics().connections() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      try (RawKafkaClient again = new RawKafkaClient(broker.kafkaPort())) {
        assertThat(apiVersions(again)).isEqualTo(Errors.NONE);
      }
    }
  }

  @Test
  void topicsAndPartitionsOverTheTierLimitAreAPolicyViolation() throws Exception {
    try (BrokerCluster cluster =
            new BrokerCluster(
                dir,
                1,
                Map.of(
                    "skiff.tier",
                    "dev",
                    "skiff.max.partitions",
                    "10",
                    "auto.create.topics.enable",
                    "true"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin
          .createTopics(List.of(new NewTopic("fits", 8, (short) 1)))
          .all()
          .get(60, TimeUnit.SECONDS);
      assertThatThrownBy(
              () ->
                  admin
                      .createTopics(List.of(new NewTopic("too-many", 3, (short) 1)))
                      .all()
                      .get(60, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(PolicyViolationException.class)
          .hasMessageContaining("limit of 10 of tier 'dev'");
      assertThatThrownBy(
              () ->
                  admin
                      .createPartitions(Map.of("fits", NewPartitions.increaseTo(11)))
                      .all()
                      .get(60, TimeUnit.SECONDS))
          .cause()
          .isInstanceOf(PolicyViolationException.class)
          .hasMessageContaining("skiff.max.partitions");
      admin
          .createPartitions(Map.of("fits", NewPartitions.increaseTo(10)))
          .all()
          .get(60, TimeUnit.SECONDS);
      // Full: a producer's auto-creation is refused too; the topic never appears.
      final Properties props = KafkaClientsTest.producerProps(cluster.bootstrap());
      props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "2000");
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
        assertThatThrownBy(
                () -> producer.send(new ProducerRecord<>("auto", "v")).get(30, TimeUnit.SECONDS))
            .cause()
            .isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class)
            .hasMessageContaining("not present in metadata");
      }
      assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).containsExactly("fits");
    }
  }

  @Test
  void tierSetsTheDefaults() {
    final BrokerConfig dev = BrokerConfig.fromMap(Map.of("node.id", "1", "skiff.tier", "dev"));
    assertThat(dev.memory().maxConnections()).isEqualTo(100);
    assertThat(dev.memory().maxPartitions()).isEqualTo(100);
    assertThat(dev.raft().maxMappedIndexBytes()).isEqualTo(256L << 20);
    final BrokerConfig large =
        BrokerConfig.fromMap(Map.of("node.id", "1", "skiff.tier", "LARGE", "max.connections", "7"));
    assertThat(large.memory().maxPartitions()).isEqualTo(30_000);
    assertThat(large.memory().maxConnections()).isEqualTo(7);
    assertThat(large.effectiveProperties()).containsEntry("skiff.tier", "large");
    assertThat(BrokerConfig.fromMap(Map.of("node.id", "1")).memory().tier().name())
        .isEqualTo("small");
    assertThatThrownBy(() -> BrokerConfig.fromMap(Map.of("node.id", "1", "skiff.tier", "huge")))
        .hasMessageContaining("skiff.tier must be one of dev, small, medium, large");
  }

  private static Errors apiVersions(RawKafkaClient client) throws IOException {
    return Errors.forCode(
        ((org.apache.kafka.common.requests.ApiVersionsResponse)
                client.call(new ApiVersionsRequest(new ApiVersionsRequestData(), (short) 3)))
            .data()
            .errorCode());
  }

  private static void assertClosedByBroker(int port) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      final InputStream in = s.getInputStream();
      try {
        assertThat(in.read()).isEqualTo(-1);
      } catch (SocketException e) {
        // reset by the broker: closed
      }
    }
  }
}
