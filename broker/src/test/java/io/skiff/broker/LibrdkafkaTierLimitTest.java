package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tier's partition cap refusing a topic that a librdkafka producer ({@code kcat}) would
 * auto-create: the refusal reaches the client as POLICY_VIOLATION on the topic in Metadata, and
 * librdkafka fails the message with it at once, instead of retrying an UNKNOWN_TOPIC_OR_PARTITION
 * until the message times out. Skips with a clear message where kcat is not installed.
 */
class LibrdkafkaTierLimitTest {
  @TempDir Path dir;

  @Test
  void autoCreationRefusedByTheTierLimitFailsTheProducerWithPolicyViolation() throws Exception {
    assumeTrue(
        ExternalCommand.available("kcat", "-V"),
        "kcat is not installed (apt-get install kcat); skipping the librdkafka checks");
    try (BrokerCluster cluster =
        new BrokerCluster(
            dir,
            1,
            Map.of(
                "skiff.tier", "dev",
                "skiff.max.partitions", "2",
                "num.partitions", "3",
                "auto.create.topics.enable", "true"))) {
      final long start = System.nanoTime();
      final ExternalCommand.Result result =
          ExternalCommand.of(
                  "kcat",
                  "-b",
                  cluster.bootstrap(),
                  "-t",
                  "over-the-limit",
                  "-P",
                  "-X",
                  "message.timeout.ms=60000")
              .stdin("refused\n")
              .timeout(Duration.ofMinutes(2))
              .start();
      final Duration took = Duration.ofNanos(System.nanoTime() - start);
      assertThat(result.stderr()).contains("Policy violation");
      assertThat(result.stderr()).doesNotContain("Message timed out");
      assertThat(result.exitCode()).isNotZero();
      assertThat(took).isLessThan(Duration.ofSeconds(45));
    }
  }
}
