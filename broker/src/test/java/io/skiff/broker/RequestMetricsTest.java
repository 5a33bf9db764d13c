package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.broker.admin.LatencyHistogram;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Request time per API and requests in flight, as a client's traffic leaves them. */
class RequestMetricsTest {
  @TempDir Path dir;

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void everyAnsweredProduceIsTimedAndNothingStaysInFlight() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 1, Map.of())) {
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
        admin
            .createTopics(List.of(new NewTopic("timed", 1, (short) 1)))
            .all()
            .get(60, TimeUnit.SECONDS);
      }
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
        for (int i = 0; i < 20; i++) {
          producer.send(new ProducerRecord<>("timed", "v" + i)).get(30, TimeUnit.SECONDS);
        }
      }
      final Broker broker = cluster.broker(1);
      final LatencyHistogram produce = histogram(broker, "total", "Produce");
      assertThat(produce.count()).isGreaterThanOrEqualTo(20);
      assertThat(produce.sumSeconds()).isPositive();
      for (String part : List.of("queue", "local", "remote")) {
        assertThat(histogram(broker, part, "Produce").count())
            .as("Produce %s time", part)
            .isEqualTo(produce.count());
      }
      assertThat(broker.metrics().getMetrics())
          .containsKey("kafka.request.total.time[api=Metadata]");
      assertThat(broker.networkMetrics().inFlightRequests()).isZero();
    }
  }

  private static LatencyHistogram histogram(Broker broker, String part, String api) {
    final Object metric =
        broker.metrics().getMetrics().get("kafka.request." + part + ".time[api=" + api + "]");
    assertThat(metric).as("%s %s time", api, part).isInstanceOf(LatencyHistogram.class);
    return (LatencyHistogram) metric;
  }
}
