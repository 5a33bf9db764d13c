package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.broker.BrokerCluster;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Command tests against three real brokers in the test JVM, started once per test class; the
 * command reaches them over the network only. Subclasses may change the brokers' settings and the
 * command line's global options.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ThreeBrokerCommandTest {
  @TempDir static Path dir;
  BrokerCluster cluster;
  Cli cli;

  /** Broker settings over the test defaults. */
  Map<String, String> brokerSettings() {
    return Map.of("offsets.topic.num.partitions", "3");
  }

  /** The command line the tests run, given the started cluster. */
  Cli commandLine(BrokerCluster brokers) {
    return Cli.against(brokers.bootstrap());
  }

  @BeforeAll
  void startBrokers() throws Exception {
    cluster = new BrokerCluster(dir.resolve("brokers"), 3, brokerSettings());
    cli = commandLine(cluster);
  }

  @AfterAll
  void stopBrokers() {
    cluster.close();
  }

  /** Runs the command and requires exit code 0. */
  Cli.Run ok(String... args) {
    final Cli.Run run = cli.run(args);
    assertThat(run.exit()).as(run.toString()).isZero();
    return run;
  }
}
