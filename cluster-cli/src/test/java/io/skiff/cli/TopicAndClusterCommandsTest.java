package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
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
    // A broker learns a new partition's leader at its first append: ask until every one has one.
    final JsonNode topic =
        askUntil(
            120,
            () -> ok("topic", "describe", "orders", "-o", "json").json().path("topics").get(0),
            t -> !leaderless(t));
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
    final List<String> lines =
        askUntil(120, () -> ok("topic", "describe", "aligned").out(), t -> !t.contains(" none "))
            .lines()
            .toList();
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
    final JsonNode status =
        askUntil(
            120,
            () -> ok("cluster", "status", "-o", "json").json(),
            st -> st.path("leaderless").isEmpty() && st.path("under_replicated").isEmpty());
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
    final JsonNode brokers =
        askUntil(
            60,
            () -> ok("broker", "list", "-o", "json").json().path("brokers"),
            b -> leaderCount(b) == partitions);
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

  /**
   * What {@code ask} answers once {@code settled} holds, asking every 500 ms, at most {@code
   * attempts} more times; the last answer if it never does (the caller's assertions then fail).
   */
  private static <T> T askUntil(int attempts, Supplier<T> ask, Predicate<T> settled)
      throws InterruptedException {
    T answer = ask.get();
    for (int attempt = 0; attempt < attempts && !settled.test(answer); attempt++) {
      Thread.sleep(500);
      answer = ask.get();
    }
    return answer;
  }
}
