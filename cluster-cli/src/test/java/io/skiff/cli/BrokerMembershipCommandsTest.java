package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.skiff.broker.BrokerCluster;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code skiff broker maintenance|decommission|recommission} against three real brokers. */
@Timeout(480)
class BrokerMembershipCommandsTest extends ThreeBrokerCommandTest {
  @Override
  Map<String, String> brokerSettings() {
    return Map.of(
        "default.replication.factor",
        "2",
        "offsets.topic.replication.factor",
        "2",
        "offsets.topic.num.partitions",
        "3");
  }

  @Override
  Cli commandLine(BrokerCluster brokers) {
    return Cli.against(brokers, "180s", 1, 2);
  }

  @Test
  void maintenanceMovesLeadershipsAwayAndListShowsTheState() throws Exception {
    ok("topic", "create", "maint", "-p", "6", "-r", "2");
    final JsonNode on = ok("broker", "maintenance", "on", "2", "-o", "json").json();
    assertThat(on.path("state").asText()).isEqualTo("maintenance");

    JsonNode broker2 = brokerInList(2);
    final long deadline = System.nanoTime() + 120_000_000_000L;
    while (broker2.path("leaders").asInt() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      broker2 = brokerInList(2);
    }
    assertThat(broker2.path("state").asText()).isEqualTo("maintenance");
    assertThat(broker2.path("leaders").asInt()).as(broker2.toString()).isZero();
    assertThat(ok("broker", "list").out()).contains("STATE", "maintenance");

    final Cli.Run off = ok("broker", "maintenance", "off", "2");
    assertThat(off.out()).contains("broker 2 is active");
    assertThat(brokerInList(2).path("state").asText()).isEqualTo("active");
  }

  @Test
  void decommissionWaitsUntilEveryReplicaMovedAndRecommissionUndoesIt() {
    ok("topic", "create", "drain", "-p", "4", "-r", "2");
    final Cli.Run done = ok("broker", "decommission", "3", "--wait", "-o", "json");
    assertThat(done.json().path("state").asText()).isEqualTo("decommissioned");
    assertThat(done.json().path("replicas").asInt()).isZero();
    assertThat(done.err()).contains("broker 3: partitions moved", " / ", "; copied ", " MiB at ");
    final JsonNode progress = done.json().path("progress");
    assertThat(progress.path("bytes_copied").asLong())
        .as(progress.toString())
        .isEqualTo(progress.path("bytes_total").asLong());

    final JsonNode status = ok("cluster", "status", "-o", "json").json();
    status.path("brokers").forEach(b -> assertThat(b.path("id").asInt()).isNotEqualTo(3));
    final JsonNode topic = ok("topic", "describe", "drain", "-o", "json").json();
    topic
        .path("partitions")
        .forEach(p -> p.path("replicas").forEach(r -> assertThat(r.asInt()).isNotEqualTo(3)));

    final Cli.Run back = ok("broker", "recommission", "3", "-o", "json");
    assertThat(back.json().path("state").asText()).isEqualTo("active");
  }

  @Test
  void refusalsAreOneClearLine() {
    final Cli.Run unknown = cli.run("broker", "decommission", "9");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("broker 9 is not registered").hasLineCount(1);

    final Cli.Run usage = cli.run("broker", "maintenance", "sideways", "2");
    assertThat(usage.exit()).isEqualTo(2);
    assertThat(usage.err()).contains("sideways");
  }

  private JsonNode brokerInList(int id) {
    for (JsonNode b : ok("broker", "list", "-o", "json").json().path("brokers")) {
      if (b.path("id").asInt() == id) {
        return b;
      }
    }
    throw new AssertionError("broker " + id + " not listed");
  }
}
