package io.skiff.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** deploy/jvm/&lt;tier&gt;.options size the JVM as the {@link Tier} record says. */
class JvmOptionsFilesTest {
  private static final Path DIR = Path.of("..", "deploy", "jvm");

  private static List<String> options(String file) throws IOException {
    return Files.readAllLines(DIR.resolve(file)).stream()
        .map(String::trim)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .toList();
  }

  private static String size(long bytes) {
    return bytes % (1L << 30) == 0 ? (bytes >> 30) + "g" : (bytes >> 20) + "m";
  }

  @Test
  void everyTierHasG1OptionsWithTheMemoryProfilesSettings() throws IOException {
    for (Tier tier : Tier.ALL) {
      final List<String> g1 = options(tier.name() + ".options");
      assertThat(g1)
          .as(tier.name())
          .contains(
              "-Xms" + size(tier.heapBytes()),
              "-Xmx" + size(tier.heapBytes()),
              "-XX:+UseG1GC",
              "-XX:MaxGCPauseMillis=20",
              "-XX:G1HeapRegionSize=16m",
              "-XX:InitiatingHeapOccupancyPercent=35",
              "-XX:G1ReservePercent=25",
              "-XX:MaxDirectMemorySize=" + size(tier.directMemoryBytes()));
    }
  }

  @Test
  void everyTierHasAZgcVariantOfTheSameSize() throws IOException {
    for (Tier tier : Tier.ALL) {
      final List<String> zgc = options(tier.name() + "-zgc.options");
      assertThat(zgc)
          .as(tier.name())
          .contains(
              "-Xms" + size(tier.heapBytes()),
              "-Xmx" + size(tier.heapBytes()),
              "-XX:+UseZGC",
              "-XX:MaxDirectMemorySize=" + size(tier.directMemoryBytes()))
          .doesNotContain("-XX:+UseG1GC");
    }
  }
}
