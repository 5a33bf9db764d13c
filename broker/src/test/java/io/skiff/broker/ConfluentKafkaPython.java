package io.skiff.broker;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Python interpreter that the compatibility tests run confluent-kafka-python (librdkafka
 * underneath) with: the Debian one first, since a {@code python3} earlier on PATH may lack the
 * Debian module {@code python3-confluent-kafka}. Stateless, so thread-safe.
 */
final class ConfluentKafkaPython {
  private ConfluentKafkaPython() {}

  /**
   * The first interpreter that imports {@code confluent_kafka}; where none does, aborts the calling
   * test (skipped, not failed) with a message that says what to install and that {@code checks} are
   * skipped.
   */
  static String interpreterOrSkip(String checks) {
    final Optional<String> python =
        Stream.of("/usr/bin/python3", "python3")
            .filter(p -> ExternalCommand.available(p, "-c", "import confluent_kafka"))
            .findFirst();
    assumeTrue(
        python.isPresent(),
        "no python3 with confluent_kafka (apt-get install python3-confluent-kafka); skipping the "
            + checks);
    return python.get();
  }
}
