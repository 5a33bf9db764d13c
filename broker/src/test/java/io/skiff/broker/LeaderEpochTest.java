package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.partition.ReplicatedPartition;
import io.skiff.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.ListOffsetsResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leader epochs as clients rely on them (KIP-320): Fetch and ListOffsets check the request's {@code
 * current_leader_epoch} against the leader's Raft term, and every broker's Metadata names the
 * leader with its epoch, a broker that hosts no replica included. A client takes epoch -1 as
 * "unknown" and forgets the epoch it knew; it would then follow a deposed leader's own, older
 * answer.
 */
class LeaderEpochTest {
  private static final String TOPIC = "epochs";

  @TempDir Path dir;

  @Test
  void fetchAndListOffsetsCheckTheEpochAndEveryBrokerNamesIt() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of());
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      final Uuid topicId =
          admin
              .createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(1, 2)))))
              .topicId(TOPIC)
              .get(60, TimeUnit.SECONDS);
      cluster.awaitLeaders(TOPIC, Duration.ofSeconds(60));
      final ReplicatedPartition leader = cluster.readyLeader(TOPIC, 0).orElseThrow();
      final int epoch = (int) leader.leaderEpoch();
      final int leaderId = leader.leaderNodeId().orElseThrow();
      assertThat(epoch).isPositive();

      try (RawKafkaClient client = new RawKafkaClient(cluster.broker(leaderId).kafkaPort())) {
        assertThat(fetch(client, topicId, epoch)).isEqualTo(Errors.NONE);
        assertThat(fetch(client, topicId, -1)).as("no epoch: not checked").isEqualTo(Errors.NONE);
        assertThat(fetch(client, topicId, epoch + 1)).isEqualTo(Errors.UNKNOWN_LEADER_EPOCH);
        assertThat(fetch(client, topicId, epoch - 1)).isEqualTo(Errors.FENCED_LEADER_EPOCH);
        assertThat(listOffsets(client, epoch)).isEqualTo(Errors.NONE);
        assertThat(listOffsets(client, epoch + 1)).isEqualTo(Errors.UNKNOWN_LEADER_EPOCH);
        assertThat(listOffsets(client, epoch - 1)).isEqualTo(Errors.FENCED_LEADER_EPOCH);
      }

      for (int id : cluster.runningIds()) {
        try (RawKafkaClient client = new RawKafkaClient(cluster.broker(id).kafkaPort())) {
          Await.atMost(Duration.ofSeconds(30))
              .until(
                  "broker " + id + " names leader " + leaderId + " in epoch " + epoch,
                  () -> named(client).equals(List.of(leaderId, epoch)));
        }
      }
    }
  }

  private static Errors fetch(RawKafkaClient client, Uuid topicId, int currentLeaderEpoch)
      throws Exception {
    return Errors.forCode(
        client
            .fetch(topicId, 0, 0, currentLeaderEpoch)
            .responses()
            .get(0)
            .partitions()
            .get(0)
            .errorCode());
  }

  private static Errors listOffsets(RawKafkaClient client, int currentLeaderEpoch)
      throws Exception {
    final List<ListOffsetsRequestData.ListOffsetsTopic> topics =
        List.of(
            new ListOffsetsRequestData.ListOffsetsTopic()
                .setName(TOPIC)
                .setPartitions(
                    List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition()
                            .setPartitionIndex(0)
                            .setCurrentLeaderEpoch(currentLeaderEpoch)
                            .setTimestamp(-1))));
    final ListOffsetsResponse response =
        (ListOffsetsResponse)
            client.call(
                ListOffsetsRequest.Builder.forConsumer(false, IsolationLevel.READ_UNCOMMITTED)
                    .setTargetTimes(topics)
                    .build((short) 7));
    return Errors.forCode(response.data().topics().get(0).partitions().get(0).errorCode());
  }

  /** The leader and epoch a broker's Metadata names for partition 0, or an empty list. */
  private static List<Integer> named(RawKafkaClient client) {
    try {
      final var partition = client.metadata(TOPIC).topics().find(TOPIC).partitions().get(0);
      return List.of(partition.leaderId(), partition.leaderEpoch());
    } catch (Exception e) {
      return List.of();
    }
  }
}
