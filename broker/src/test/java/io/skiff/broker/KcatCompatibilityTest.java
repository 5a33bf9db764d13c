package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * librdkafka through {@code kcat} (Debian package {@code kcat}): idempotent produce, consume by
 * partition, metadata, and a balanced consumer group ({@code -G}) that commits and resumes. Skips
 * with a clear message where kcat is not installed.
 */
class KcatCompatibilityTest {
  private static final int LINES = 500;

  @TempDir Path dir;

  @Test
  void kcatProducesConsumesListsMetadataAndConsumesInAGroup() throws Exception {
    assumeTrue(
        ExternalCommand.available("kcat", "-V"),
        "kcat is not installed (apt-get install kcat); skipping the librdkafka checks");
    try (BrokerCluster cluster =
            new BrokerCluster(
                dir,
                3,
                Map.of(
                    "auto.create.topics.enable", "true", "group.initial.rebalance.delay.ms", "0"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      final String bootstrap = cluster.bootstrap();
      final StringBuilder lines = new StringBuilder();
      for (int i = 0; i < LINES; i++) {
        lines.append("line-").append(i).append('\n');
      }
      ExternalCommand.of(
              "kcat",
              "-b",
              bootstrap,
              "-t",
              "kcat-demo",
              "-P",
              "-X",
              "enable.idempotence=true",
              "-X",
              "topic.request.required.acks=-1")
          .stdin(lines.toString())
          .run();
      final List<String> got =
          ExternalCommand.of(
                  "kcat", "-b", bootstrap, "-t", "kcat-demo", "-C", "-e", "-q", "-f", "%o %s\n")
              .run()
              .lines()
              .toList();
      assertThat(got).hasSize(LINES);
      for (int i = 0; i < LINES; i++) {
        assertThat(got.get(i)).isEqualTo(i + " line-" + i);
      }
      final String metadata =
          ExternalCommand.of("kcat", "-b", bootstrap, "-L", "-t", "kcat-demo").run();
      assertThat(metadata).contains("3 brokers").contains("topic \"kcat-demo\" with 1 partitions");

      consumesInAGroupAndResumes(admin, bootstrap);
    }
  }

  /**
   * {@code kcat -G}: a balanced consumer reads every line, commits, and a rerun finds nothing new.
   */
  private static void consumesInAGroupAndResumes(Admin admin, String bootstrap) throws Exception {
    admin.createTopics(List.of(new NewTopic("kcat-group", 3, (short) 3))).all().get();
    final StringBuilder lines = new StringBuilder();
    for (int i = 0; i < LINES; i++) {
      lines.append("g-").append(i).append('\n');
    }
    ExternalCommand.of("kcat", "-b", bootstrap, "-t", "kcat-group", "-P", "-X", "acks=all")
        .stdin(lines.toString())
        .run();
    final String[] group = {
      "kcat",
      "-b",
      bootstrap,
      "-G",
      "kcat-readers",
      "-X",
      "auto.offset.reset=earliest",
      "-e",
      "-q",
      "-f",
      "%s\n",
      "kcat-group"
    };
    final Set<String> first = Set.copyOf(ExternalCommand.of(group).run().lines().toList());
    assertThat(first).hasSize(LINES).contains("g-0", "g-" + (LINES - 1));

    final Map<TopicPartition, OffsetAndMetadata> committed =
        admin.listConsumerGroupOffsets("kcat-readers").partitionsToOffsetAndMetadata().get();
    assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum())
        .as("committed offsets of kcat-readers: %s", committed)
        .isEqualTo(LINES);
    assertThat(ExternalCommand.of(group).run().lines().toList())
        .as("a rerun of the group resumes at its committed offsets")
        .isEmpty();
    assertThat(
            admin
                .describeConsumerGroups(List.of("kcat-readers"))
                .describedGroups()
                .get("kcat-readers")
                .get()
                .groupState())
        .as("kcat left the group when it exited")
        .isEqualTo(GroupState.EMPTY);
  }
}
