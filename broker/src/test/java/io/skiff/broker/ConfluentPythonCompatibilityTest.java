package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * confluent-kafka-python (Debian {@code python3-confluent-kafka}): an idempotent producer, a
 * consumer group with synchronous commits, and the committed offsets read back. Skips with a clear
 * message where no Python has the module.
 */
class ConfluentPythonCompatibilityTest {
  private static final Path SCRIPT =
      Path.of("src/test/compat/python/roundtrip.py").toAbsolutePath();
  private static final int COUNT = 300;

  @TempDir Path dir;

  @Test
  void confluentKafkaPythonProducesConsumesAndCommits() throws Exception {
    final String python = ConfluentKafkaPython.interpreterOrSkip("confluent-kafka-python checks");
    try (BrokerCluster cluster =
            new BrokerCluster(dir, 3, Map.of("group.initial.rebalance.delay.ms", "0"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin.createTopics(List.of(new NewTopic("python-demo", 3, (short) 3))).all().get();
      final String out =
          ExternalCommand.of(
                  python,
                  SCRIPT.toString(),
                  cluster.bootstrap(),
                  "python-demo",
                  "python-readers",
                  Integer.toString(COUNT))
              .run();
      assertThat(out.strip())
          .isEqualTo(
              "{\"produced\": "
                  + COUNT
                  + ", \"consumed\": "
                  + COUNT
                  + ", \"committed\": "
                  + COUNT
                  + "}");
    }
  }
}
