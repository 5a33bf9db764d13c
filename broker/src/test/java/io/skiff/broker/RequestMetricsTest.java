package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.Timer;
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
      final Timer produce = broker.metrics().getTimers().get("kafka.request.time[api=Produce]");
      assertThat(produce).as("Produce request timer").isNotNull();
      assertThat(produce.getCount()).isGreaterThanOrEqualTo(20);
      assertThat(produce.getSnapshot().getMax()).isPositive();
      assertThat(broker.metrics().getTimers()).containsKey("kafka.request.time[api=Metadata]");
      assertThat(broker.networkMetrics().inFlightRequests()).isZero();
    }
  }
}
