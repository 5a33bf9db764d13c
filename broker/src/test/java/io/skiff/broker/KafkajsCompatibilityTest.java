package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafkajs (npm, pinned in {@code src/test/compat/kafkajs/package-lock.json}): Admin topic creation
 * and metadata, an idempotent producer, a consumer group that commits. The package is installed
 * with {@code npm ci} into {@code target/compat/kafkajs} on first use; the test skips with a clear
 * message where Node.js or the npm registry is unavailable.
 */
class KafkajsCompatibilityTest {
  private static final Path SOURCE = Path.of("src/test/compat/kafkajs");
  private static final Path WORK = Path.of("target/compat/kafkajs");
  private static final int COUNT = 300;

  @TempDir Path dir;

  /** Copies the script and its lock file to target/ and installs kafkajs there once. */
  private static boolean installed() throws Exception {
    if (!ExternalCommand.available("node", "--version")) {
      return false;
    }
    Files.createDirectories(WORK);
    for (String file : new String[] {"package.json", "package-lock.json", "roundtrip.js"}) {
      Files.copy(SOURCE.resolve(file), WORK.resolve(file), StandardCopyOption.REPLACE_EXISTING);
    }
    if (Files.isDirectory(WORK.resolve("node_modules/kafkajs"))) {
      return true;
    }
    return ExternalCommand.of("npm", "ci", "--no-audit", "--no-fund")
            .in(WORK)
            .timeout(Duration.ofMinutes(3))
            .start()
            .exitCode()
        == 0;
  }

  @Test
  void kafkajsProducesAndConsumesInAGroup() throws Exception {
    assumeTrue(
        installed(),
        "Node.js or the kafkajs package is unavailable (apt-get install nodejs npm; npm registry"
            + " reachable); skipping the kafkajs checks");
    try (BrokerCluster cluster =
            new BrokerCluster(dir, 3, Map.of("group.initial.rebalance.delay.ms", "0"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      final String out =
          ExternalCommand.of(
                  "node",
                  "roundtrip.js",
                  cluster.bootstrap(),
                  "kafkajs-demo",
                  "kafkajs-readers",
                  Integer.toString(COUNT))
              .in(WORK)
              .run();
      assertThat(out.strip())
          .isEqualTo("{\"partitions\":3,\"produced\":" + COUNT + ",\"consumed\":" + COUNT + "}");
      final Map<?, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets("kafkajs-readers").partitionsToOffsetAndMetadata().get();
      assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum())
          .as("offsets kafkajs committed: %s", committed)
          .isEqualTo(COUNT);
    }
  }
}
