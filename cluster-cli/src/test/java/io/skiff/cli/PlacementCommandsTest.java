package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code skiff partition move|reassign|balance} and {@code skiff leaders balance} on three real
 * brokers (metadata.voters takes 3 or 5 brokers), with topics of replication factor 2 so that every
 * partition has a broker to move to.
 */
@Timeout(600)
class PlacementCommandsTest extends ThreeBrokerCommandTest {
  private List<Integer> replicasOf(String topic, int partition) {
    final JsonNode t = ok("topic", "describe", topic, "-o", "json").json().path("topics").get(0);
    final List<Integer> replicas = new ArrayList<>();
    t.path("partitions").get(partition).path("replicas").forEach(r -> replicas.add(r.asInt()));
    return replicas;
  }

  @Test
  void movesOnePartitionWithProgressAndRefusesBadInputWithoutApplyingIt() {
    ok("topic", "create", "moving", "-p", "1", "-r", "2");
    final List<Integer> before = replicasOf("moving", 0);
    final int outsider =
        List.of(1, 2, 3).stream().filter(b -> !before.contains(b)).findFirst().orElseThrow();
    final List<Integer> target = List.of(before.get(1), outsider);
    final String replicas = target.get(0) + "," + target.get(1);

    final Cli.Run move = ok("partition", "move", "moving/0", "--replicas", replicas, "-o", "json");
    assertThat(move.json().path("complete").asBoolean()).isTrue();
    assertThat(move.err()).contains("moving 1 partitions: 1 done", "; copied ");
    assertThat(move.json().path("progress").has("bytes_per_sec")).as(move.toString()).isTrue();
    assertThat(replicasOf("moving", 0)).containsExactlyInAnyOrderElementsOf(target);

    final Cli.Run notAPartition = cli.run("partition", "move", "moving0", "--replicas", "1,2,3");
    assertThat(notAPartition.exit()).isEqualTo(2);
    assertThat(notAPartition.err()).contains("'moving0' is not TOPIC/PARTITION, e.g. orders/0");
    final Cli.Run twice = cli.run("partition", "move", "moving/0", "--replicas", "1,1,2");
    assertThat(twice.exit()).isEqualTo(2);
    assertThat(twice.err()).contains("names a broker twice");
    final Cli.Run unknownBroker = cli.run("partition", "move", "moving/0", "--replicas", "1,9");
    assertThat(unknownBroker.exit()).isEqualTo(1);
    assertThat(unknownBroker.err().strip())
        .isEqualTo(
            "skiff partition move: broker 9 (in the replicas of moving/0) is not in the cluster; brokers: [1, 2, 3]");
    final Cli.Run unknownPartition = cli.run("partition", "move", "moving/5", "--replicas", "1,2");
    assertThat(unknownPartition.exit()).isEqualTo(1);
    assertThat(unknownPartition.err()).contains("topic 'moving' has no partition 5 (it has 1)");
    assertThat(replicasOf("moving", 0))
        .as("nothing applied")
        .containsExactlyInAnyOrderElementsOf(target);
  }

  @Test
  void generatesExecutesAndVerifiesAKafkaReassignmentPlan() throws Exception {
    ok("topic", "create", "planned", "-p", "4", "-r", "2");
    final Cli.Run generated =
        ok("partition", "reassign", "--generate", "--topics", "planned", "--brokers", "1,2");
    assertThat(generated.err()).contains("Current partition replica assignment");
    final Path plan = dir.resolve("plan.json");
    Files.writeString(plan, generated.out());
    final JsonNode proposed = generated.json();
    assertThat(proposed.path("version").asInt()).isEqualTo(1);
    assertThat(proposed.path("partitions")).hasSize(4);
    proposed
        .path("partitions")
        .forEach(p -> assertThat(p.path("replicas").toString()).doesNotContain("3"));

    final Cli.Run executed =
        ok("partition", "reassign", "--plan", plan.toString(), "--execute", "--wait", "-o", "json");
    assertThat(executed.json().path("complete").asBoolean()).isTrue();
    final Cli.Run verified =
        ok("partition", "reassign", "--plan", plan.toString(), "--verify", "-o", "json");
    verified
        .json()
        .path("partitions")
        .forEach(p -> assertThat(p.path("state").asText()).isEqualTo("done"));
    for (int p = 0; p < 4; p++) {
      assertThat(replicasOf("planned", p)).containsExactlyInAnyOrder(1, 2);
    }
    assertThat(ok("partition", "reassign", "--plan", plan.toString(), "--cancel").out())
        .contains("no move of the plan was under way");

    final Path broken = dir.resolve("broken.json");
    Files.writeString(
        broken,
        "{\"version\":1,\"partitions\":[{\"topic\":\"planned\",\"partition\":0,\"replicas\":[1,\"x\"]}]}");
    final Cli.Run bad = cli.run("partition", "reassign", "--plan", broken.toString(), "--execute");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err().strip())
        .isEqualTo(
            "skiff partition reassign: "
                + broken
                + ": partitions[0]: replica \"x\" is not a broker id");
    final Cli.Run noPlan = cli.run("partition", "reassign", "--verify");
    assertThat(noPlan.exit()).isEqualTo(2);
    assertThat(noPlan.err()).contains("need --plan FILE");
  }

  @Test
  void balanceGivesABrokerLeftOutItsShareOfReplicasAndLeaders() throws Exception {
    ok("topic", "create", "spread", "-p", "6", "-r", "2");
    final Path offThree = dir.resolve("off-three.json");
    Files.writeString(
        offThree,
        ok("partition", "reassign", "--generate", "--topics", "spread", "--brokers", "1,2").out());
    ok("partition", "reassign", "--plan", offThree.toString(), "--execute", "--wait");
    final JsonNode skewed = ok("broker", "list", "-o", "json").json().path("brokers");
    assertThat(spread(skewed, "replicas")).as("replicas per broker " + skewed).isGreaterThan(1);

    final JsonNode dry = ok("partition", "balance", "--dry-run", "-o", "json").json();
    assertThat(dry.path("changes").size()).isPositive();
    assertThat(counts(ok("broker", "list", "-o", "json").json().path("brokers"), "replicas"))
        .as("a dry run moves nothing")
        .isEqualTo(counts(skewed, "replicas"));

    final Cli.Run balanced = ok("partition", "balance");
    assertThat(balanced.out()).contains("partitions change");
    final JsonNode brokers = awaitLeaderSpread();
    assertThat(spread(brokers, "replicas"))
        .as("replicas per broker " + brokers)
        .isLessThanOrEqualTo(1);
    assertThat(spread(brokers, "leaders"))
        .as(
            "leaders per broker "
                + brokers
                + "\n"
                + balanced
                + ok("topic", "describe", "spread").out())
        .isLessThanOrEqualTo(1);
    awaitHealthy();

    final JsonNode leaders = ok("leaders", "balance", "-o", "json").json();
    assertThat(leaders.path("failed")).isEmpty();
    final Map<String, Integer> perBroker = new TreeMap<>();
    leaders
        .path("leaders_per_broker")
        .properties()
        .forEach(e -> perBroker.put(e.getKey(), e.getValue().asInt()));
    assertThat(perBroker).hasSize(3);
    final JsonNode after = awaitLeaderSpread();
    assertThat(spread(after, "leaders")).as("leaders per broker " + after).isLessThanOrEqualTo(1);
  }

  /**
   * Brokers as listed once leaders are spread within one, or after 15 s: leadership news reaches
   * every broker's metadata answer a moment after the elections.
   */
  private JsonNode awaitLeaderSpread() throws InterruptedException {
    final long deadline = System.nanoTime() + 15_000_000_000L;
    JsonNode brokers = ok("broker", "list", "-o", "json").json().path("brokers");
    while (spread(brokers, "leaders") > 1 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      brokers = ok("broker", "list", "-o", "json").json().path("brokers");
    }
    return brokers;
  }

  /** Health is a point in time: a partition whose leadership just moved may be electing. */
  private void awaitHealthy() throws InterruptedException {
    final long deadline = System.nanoTime() + 30_000_000_000L;
    Cli.Run health = cli.run("cluster", "health");
    while (health.exit() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      health = cli.run("cluster", "health");
    }
    assertThat(health.exit()).as(health.toString()).isZero();
  }

  private static List<Integer> counts(JsonNode brokers, String field) {
    final List<Integer> counts = new ArrayList<>();
    brokers.forEach(b -> counts.add(b.path(field).asInt()));
    return counts;
  }

  private static int spread(JsonNode brokers, String field) {
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (JsonNode b : brokers) {
      min = Math.min(min, b.path(field).asInt());
      max = Math.max(max, b.path(field).asInt());
    }
    return max - min;
  }
}
