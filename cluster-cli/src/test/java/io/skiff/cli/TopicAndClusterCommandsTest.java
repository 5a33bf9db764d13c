package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code skiff cluster|broker|topic} against three real brokers. */
@Timeout(300)
class TopicAndClusterCommandsTest extends ThreeBrokerCommandTest {
  @Test
  void createsDescribesAltersGrowsAndDeletesATopic() throws InterruptedException {
    final JsonNode created =
        ok(
                "topic",
                "create",
                "orders",
                "-p",
                "3",
                "-r",
                "3",
                "-c",
                "retention.ms=3600000",
                "-o",
                "json")
            .json();
    assertThat(created.path("name").asText()).isEqualTo("orders");
    assertThat(created.path("partitions")).hasSize(3);
    created.path("partitions").forEach(p -> assertThat(p.path("replicas")).hasSize(3));

    final Cli.Run again = cli.run("topic", "create", "orders", "-p", "3");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err().strip()).isEqualTo("skiff topic create: topic 'orders' already exists");
    ok("topic", "create", "orders", "--if-not-exists");

    final JsonNode listed = ok("topic", "list", "-o", "json").json();
    assertThat(names(listed.path("topics")))
        .contains("orders")
        .doesNotContain("__consumer_offsets");
    assertThat(ok("topic", "list").out()).containsPattern("orders\\s+3\\s+3");

    ok(
        "topic",
        "alter-config",
        "orders",
        "--set",
        "retention.ms=7200000",
        "--set",
        "segment.bytes=1048576");
    JsonNode topic = ok("topic", "describe", "orders", "-o", "json").json().path("topics").get(0);
    for (int attempt = 0; attempt < 120 && leaderless(topic); attempt++) {
      Thread.sleep(500); // a broker learns a new partition's leader at its first append
      topic = ok("topic", "describe", "orders", "-o", "json").json().path("topics").get(0);
    }
    assertThat(topic.path("configs").path("retention.ms").asText()).isEqualTo("7200000");
    assertThat(topic.path("configs").path("segment.bytes").asText()).isEqualTo("1048576");
    topic.path("partitions").forEach(p -> assertThat(p.path("leader").asInt()).isBetween(1, 3));
    ok("topic", "alter-config", "orders", "--delete", "segment.bytes");
    assertThat(ok("topic", "describe", "orders", "-o", "yaml").out())
        .contains("retention.ms: \"7200000\"")
        .doesNotContain("segment.bytes");

    final JsonNode grown =
        ok("topic", "add-partitions", "orders", "--total", "5", "-o", "json").json();
    assertThat(grown.path("partitions").asInt()).isEqualTo(5);
    final Cli.Run shrink = cli.run("topic", "add-partitions", "orders", "--total", "2");
    assertThat(shrink.exit()).isEqualTo(2);
    assertThat(shrink.err()).contains("has 5 partitions already");

    assertThat(ok("topic", "delete", "orders").out()).contains("deleted topic orders");
    final Cli.Run gone = cli.run("topic", "describe", "orders");
    assertThat(gone.exit()).isEqualTo(1);
    assertThat(gone.err().strip())
        .isEqualTo(
            "skiff topic describe: unknown topic 'orders'; 'skiff topic list' shows the topics");
    ok("topic", "delete", "orders", "--if-exists");
  }

  @Test
  void describeTableIsAlignedForPeople() throws InterruptedException {
    ok("topic", "create", "aligned", "-p", "2", "-r", "3");
    // create waits until the broker it asks sees every leader; describe may ask another, which
    // learns its partitions' leader at their first append (later on a loaded machine): the table is
    // read once every row names one.
    String table = ok("topic", "describe", "aligned").out();
    for (int attempt = 0; attempt < 120 && table.contains(" none "); attempt++) {
      Thread.sleep(500);
      table = ok("topic", "describe", "aligned").out();
    }
    final List<String> lines = table.lines().toList();
    final int header =
        lines.indexOf(
            lines.stream().filter(l -> l.startsWith("PARTITION")).findFirst().orElseThrow());
    final int leaderColumn = lines.get(header).indexOf("LEADER");
    assertThat(lines.get(header + 1).charAt(leaderColumn + "LEADER".length() - 1))
        .isBetween('1', '3');
    assertThat(lines.get(header + 2).charAt(leaderColumn + "LEADER".length() - 1))
        .isBetween('1', '3');
  }

  @Test
  void clusterStatusAndBrokerListShowEveryBrokerAndItsLoad() throws InterruptedException {
    ok("topic", "create", "load", "-p", "3", "-r", "3");
    // A new topic's partitions elect their leaders a moment after CreateTopics answers (longer on a
    // loaded machine): ask until none is leaderless or under-replicated.
    JsonNode status = ok("cluster", "status", "-o", "json").json();
    for (int attempt = 0;
        attempt < 120
            && (!status.path("leaderless").isEmpty() || !status.path("under_replicated").isEmpty());
        attempt++) {
      Thread.sleep(500);
      status = ok("cluster", "status", "-o", "json").json();
    }
    assertThat(status.path("cluster_id").asText()).isNotEmpty();
    assertThat(status.path("brokers")).hasSize(3);
    status
        .path("brokers")
        .forEach(b -> assertThat(b.path("replicas").asInt()).isGreaterThanOrEqualTo(3));
    assertThat(status.path("leaderless")).isEmpty();
    assertThat(status.path("under_replicated")).isEmpty();
    assertThat(status.path("reassignments")).isEmpty();

    // Leaders settle a moment after a topic is created (an election may still run on a loaded
    // machine): ask again until every partition counts once.
    final int partitions = status.path("partitions").asInt();
    JsonNode brokers = ok("broker", "list", "-o", "json").json().path("brokers");
    for (int attempt = 0; attempt < 60 && leaderCount(brokers) != partitions; attempt++) {
      Thread.sleep(500);
      brokers = ok("broker", "list", "-o", "json").json().path("brokers");
    }
    assertThat(brokers).hasSize(3);
    assertThat(leaderCount(brokers)).as("leaders in %s", brokers).isEqualTo(partitions);
    assertThat(ok("broker", "list").out())
        .containsPattern("(?m)^ID\\s+ADDRESS\\s+RACK\\s+STATE\\s+REPLICAS\\s+LEADERS");

    final Cli.Run health = ok("cluster", "health", "-o", "json");
    assertThat(health.json().path("healthy").asBoolean()).isTrue();
    assertThat(health.json().path("problems")).isEmpty();
  }

  private static List<String> names(JsonNode topics) {
    final List<String> names = new ArrayList<>();
    topics.forEach(t -> names.add(t.path("name").asText()));
    return names;
  }

  private static int leaderCount(JsonNode brokers) {
    int leaders = 0;
    for (JsonNode b : brokers) {
      leaders += b.path("leaders").asInt();
    }
    return leaders;
  }

  private static boolean leaderless(JsonNode topic) {
    for (JsonNode p : topic.path("partitions")) {
      if (p.path("leader").asInt() == -1) {
        return true;
      }
    }
    return false;
  }
}
