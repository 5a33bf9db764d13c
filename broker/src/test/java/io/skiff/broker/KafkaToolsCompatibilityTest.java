package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apache Kafka's own command-line tools (the {@code kafka-tools} jar, each run in a JVM of its own,
 * as the {@code kafka-*.sh} scripts do): {@code kafka-topics} creates, lists and describes; {@code
 * kafka-console-producer} writes with its defaults (idempotent); {@code kafka-console-consumer}
 * reads in a group; {@code kafka-consumer-groups} describes the group's lag and resets its offsets,
 * after which the group reads everything again.
 */
class KafkaToolsCompatibilityTest {
  private static final int LINES = 200;

  @TempDir Path dir;

  /**
   * Apache Kafka's command-line tool {@code mainClass} (from the test classpath, in its own JVM)
   * against {@code bootstrap}, with {@code args} after {@code --bootstrap-server}.
   */
  private static ExternalCommand tool(String mainClass, String bootstrap, String... args) {
    final List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-Dlogback.configurationFile=src/test/compat/tools/logback.xml");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.add("--bootstrap-server");
    command.add(bootstrap);
    command.addAll(List.of(args));
    return ExternalCommand.of(command);
  }

  @Test
  void kafkaTopicsConsoleClientsAndConsumerGroupsWork() throws Exception {
    try (BrokerCluster cluster =
        new BrokerCluster(dir, 3, Map.of("group.initial.rebalance.delay.ms", "0"))) {
      final String bootstrap = cluster.bootstrap();
      tool(
              "org.apache.kafka.tools.TopicCommand",
              bootstrap,
              "--create",
              "--topic",
              "tools-demo",
              "--partitions",
              "3",
              "--replication-factor",
              "3")
          .run();
      assertThat(tool("org.apache.kafka.tools.TopicCommand", bootstrap, "--list").run().lines())
          .contains("tools-demo");
      assertThat(
              tool(
                      "org.apache.kafka.tools.TopicCommand",
                      bootstrap,
                      "--describe",
                      "--topic",
                      "tools-demo")
                  .run())
          .contains("PartitionCount: 3")
          .contains("ReplicationFactor: 3");

      final String input =
          String.join("\n", IntStream.range(0, LINES).mapToObj(i -> "tool-" + i).toList()) + "\n";
      tool("org.apache.kafka.tools.ConsoleProducer", bootstrap, "--topic", "tools-demo")
          .stdin(input)
          .run();

      assertThat(consumeAll(bootstrap)).hasSize(LINES).contains("tool-0", "tool-" + (LINES - 1));
      final List<GroupRow> described = describeGroup(bootstrap);
      assertThat(described)
          .as("kafka-consumer-groups --describe after consuming everything")
          .isNotEmpty() // partitions with committed offsets: keyless records may all go to one
          .allSatisfy(
              row -> {
                assertThat(row.lag()).isZero();
                assertThat(row.currentOffset()).isEqualTo(row.endOffset());
              });
      assertThat(described.stream().mapToLong(GroupRow::endOffset).sum()).isEqualTo(LINES);

      tool(
              "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
              bootstrap,
              "--group",
              "tools-readers",
              "--reset-offsets",
              "--to-earliest",
              "--topic",
              "tools-demo",
              "--execute")
          .run();
      assertThat(describeGroup(bootstrap))
          .allSatisfy(row -> assertThat(row.currentOffset()).isZero());
      assertThat(consumeAll(bootstrap))
          .as("the group reads everything again after the reset")
          .hasSize(LINES);
    }
  }

  private static List<String> consumeAll(String bootstrap) throws Exception {
    return tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            bootstrap,
            "--topic",
            "tools-demo",
            "--group",
            "tools-readers",
            "--from-beginning",
            "--max-messages",
            Integer.toString(LINES),
            "--timeout-ms",
            "60000")
        .run()
        .lines()
        .toList();
  }

  /** One partition row of {@code kafka-consumer-groups --describe}. */
  record GroupRow(int partition, long currentOffset, long endOffset, long lag) {}

  private static List<GroupRow> describeGroup(String bootstrap) throws Exception {
    final String out =
        tool(
                "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                bootstrap,
                "--describe",
                "--group",
                "tools-readers")
            .run();
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
    return out.lines()
        .map(String::trim)
        .filter(l -> l.startsWith("tools-readers "))
        .map(l -> l.split("\\s+"))
        .map(
            f ->
                new GroupRow(
                    Integer.parseInt(f[2]),
                    Long.parseLong(f[3]),
                    Long.parseLong(f[4]),
                    f[5].equals("-") ? -1 : Long.parseLong(f[5])))
        .toList();
  }
}
