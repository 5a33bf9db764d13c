package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.ReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partition leader whose broker can reach none of the other replicas keeps its Raft leadership
 * for a whole election timeout (minutes here), but refuses produce with NOT_LEADER_OR_FOLLOWER as
 * soon as the broker-level liveness counts the others unreachable: an isolated leader never
 * acknowledges an {@code acks=1} write that the replicas electing a new leader will not have.
 */
class IsolatedLeaderFenceTest {
  private static final String TOPIC = "fenced";

  @TempDir Path dir;

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void aLeaderCutOffFromItsMajorityRefusesProduceWithNotLeader() throws Exception {
    try (BrokerCluster cluster =
            new BrokerCluster(
                dir,
                3,
                Map.of(
                    "raft.election.timeout.min.ms", "120000",
                    "raft.election.timeout.max.ms", "240000"));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      final Uuid topicId =
          admin
              .createTopics(List.of(new NewTopic(TOPIC, 1, (short) 3)))
              .topicId(TOPIC)
              .get(2, TimeUnit.MINUTES);
      cluster.awaitLeaders(TOPIC, Duration.ofMinutes(2));
      final int leader = leaderOf(cluster);
      try (RawKafkaClient client = new RawKafkaClient(cluster.broker(leader).kafkaPort())) {
        assertThat(produceAcksOne(client, topicId).errorCode())
            .as("a produce while every replica is up")
            .isEqualTo(Errors.NONE.code());

        for (int id : cluster.runningIds()) {
          if (id != leader) {
            cluster.stop(id);
          }
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (cluster.broker(leader).raft().unreachablePeers() < 2) {
          assertThat(System.nanoTime())
              .as("broker %d counts both peers unreachable", leader)
              .isLessThan(deadline);
          Thread.sleep(50);
        }
        assertThat(replica(cluster, leader).isLeader())
            .as("Raft still counts broker %d the leader (long election timeouts)", leader)
            .isTrue();

        final ProduceResponseData.PartitionProduceResponse refused =
            produceAcksOne(client, topicId);
        assertThat(Errors.forCode(refused.errorCode()))
            .as("acks=1 produce to the isolated leader: %s", refused.errorMessage())
            .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
      }
    }
  }

  private static int leaderOf(BrokerCluster cluster) {
    for (int id : cluster.runningIds()) {
      if (replica(cluster, id).isLeaderReady()) {
        return id;
      }
    }
    throw new AssertionError("no leader for " + TOPIC + "-0");
  }

  private static ReplicatedPartition replica(BrokerCluster cluster, int id) {
    final Broker broker = cluster.broker(id);
    return broker
        .raft()
        .partition(broker.raft().metadata().image().topic(TOPIC).orElseThrow().partition(0))
        .orElseThrow();
  }

  private static ProduceResponseData.PartitionProduceResponse produceAcksOne(
      RawKafkaClient client, Uuid topicId) throws Exception {
    final ProduceRequestData data =
        new ProduceRequestData().setAcks((short) 1).setTimeoutMs(30_000);
    final ProduceRequestData.TopicProduceData topic =
        new ProduceRequestData.TopicProduceData().setTopicId(topicId);
    topic
        .partitionData()
        .add(
            new ProduceRequestData.PartitionProduceData()
                .setIndex(0)
                .setRecords(
                    MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("v".getBytes()))));
    data.topicData().add(topic);
    final ProduceResponseData response =
        ((ProduceResponse) client.call(new ProduceRequest(data, (short) 13))).data();
    return response.responses().iterator().next().partitionResponses().get(0);
  }
}
