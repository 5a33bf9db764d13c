package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code skiff verify}'s command line; runs against brokers are in chaos-tests ({@code
 * ProcessClusterChaosTest}), which starts them.
 */
class VerifyCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return SkiffCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  @Test
  void readsDurationsAsOperatorsWriteThem() {
    final DurationConverter c = new DurationConverter();

    assertThat(c.convert("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(c.convert("60s")).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.convert("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.convert("1H")).isEqualTo(Duration.ofHours(1));
    assertThatThrownBy(() -> c.convert("soon")).hasMessageContaining("e.g. 500ms, 10s");
  }

  @Test
  void refusesABadDurationWithAUsageError() {
    assertThat(run("verify", "--bootstrap", "127.0.0.1:1", "--duration", "ten")).isEqualTo(2);
    assertThat(err.toString()).contains("'ten' is not a duration");
  }

  @Test
  void refusesAWorkloadWithoutConsumers() {
    assertThat(
            run(
                "verify",
                "--bootstrap",
                "127.0.0.1:1",
                "--group-consumers",
                "0",
                "--assigned-consumers",
                "0"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("at least one consumer");
  }

  @Test
  void isListedInTheHelp() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).contains("verify").contains("acknowledged writes survive");
  }
}
