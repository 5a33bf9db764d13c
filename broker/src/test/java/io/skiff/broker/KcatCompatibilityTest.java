package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * librdkafka through {@code kcat} (Debian package {@code kcat}): produce, consume, metadata. Skips
 * with a clear message where kcat is not installed.
 */
class KcatCompatibilityTest {
  @TempDir Path dir;

  private static boolean kcatInstalled() {
    try {
      return new ProcessBuilder("kcat", "-V").start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String run(String stdin, String... command) throws Exception {
    final Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
    if (stdin != null) {
      p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", List.of(command)).isTrue();
    final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    final String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("%s exit code; stderr: %s", List.of(command), err).isZero();
    return out;
  }

  @Test
  void kcatProducesConsumesAndListsMetadata() throws Exception {
    assumeTrue(
        kcatInstalled(),
        "kcat is not installed (apt-get install kcat); skipping librdkafka checks");
    try (BrokerCluster cluster =
        new BrokerCluster(dir, 3, Map.of("auto.create.topics.enable", "true"))) {
      final String bootstrap = cluster.bootstrap();
      final StringBuilder lines = new StringBuilder();
      for (int i = 0; i < 500; i++) {
        lines.append("line-").append(i).append('\n');
      }
      run(
          lines.toString(),
          "kcat",
          "-b",
          bootstrap,
          "-t",
          "kcat-demo",
          "-P",
          "-X",
          "topic.request.required.acks=-1");
      final String consumed =
          run(null, "kcat", "-b", bootstrap, "-t", "kcat-demo", "-C", "-e", "-q", "-f", "%o %s\n");
      final List<String> got = consumed.lines().toList();
      assertThat(got).hasSize(500);
      for (int i = 0; i < 500; i++) {
        assertThat(got.get(i)).isEqualTo(i + " line-" + i);
      }
      final String metadata = run(null, "kcat", "-b", bootstrap, "-L", "-t", "kcat-demo");
      assertThat(metadata).contains("3 brokers").contains("topic \"kcat-demo\" with 1 partitions");
      Files.writeString(dir.resolve("kcat-metadata.txt"), metadata);
    }
  }
}
