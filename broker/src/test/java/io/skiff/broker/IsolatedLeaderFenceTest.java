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
 *
 * <p>Once the others are reachable again, the leader may have been replaced meanwhile and not know
 * it yet (here it was not, but it cannot tell): until a majority answers it in its term, it serves
 * neither fetches nor {@code acks=1} writes. A fetch beyond its log would otherwise be told
 * OFFSET_OUT_OF_RANGE while the new leader holds that offset, and the consumer would reset.
 */
class IsolatedLeaderFenceTest {
  private static final String TOPIC = "fenced";

  @TempDir Path dir;

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
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

        for (int id : List.of(1, 2, 3)) {
          if (id != leader) {
            cluster.restart(id);
          }
        }
        while (cluster.broker(leader).raft().unreachablePeers() > 0) {
          assertThat(System.nanoTime())
              .as("broker %d counts both peers reachable again", leader)
              .isLessThan(deadline + TimeUnit.SECONDS.toNanos(120));
          Thread.sleep(20);
        }
        // Its appenders to the restarted peers wait for the next heartbeat (a minute here): no
        // follower has answered since they came back.
        assertThat(replica(cluster, leader).isLeaderReady()).isTrue();
        assertThat(fetch(client, topicId, 1_000))
            .as("a fetch beyond the log of an unconfirmed leader")
            .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
        assertThat(Errors.forCode(produceAcksOne(client, topicId).errorCode()))
            .as("acks=1 produce to an unconfirmed leader")
            .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);

        // An acks=all write needs a majority anyway; its replication brings the answers.
        assertThat(Errors.forCode(produce(client, topicId, (short) -1).errorCode()))
            .isEqualTo(Errors.NONE);
        // (the check's last answer is kept for 100 ms)
        Await.atMost(Duration.ofSeconds(5))
            .until(
                "broker " + leader + "'s leadership confirmed",
                () -> replica(cluster, leader).leadershipConfirmed());
        assertThat(fetch(client, topicId, 0)).isEqualTo(Errors.NONE);
        assertThat(fetch(client, topicId, 1_000)).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
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
    return produce(client, topicId, (short) 1);
  }

  private static Errors fetch(RawKafkaClient client, Uuid topicId, long offset) throws Exception {
    return Errors.forCode(
        client.fetch(topicId, 0, offset, -1).responses().get(0).partitions().get(0).errorCode());
  }

  private static ProduceResponseData.PartitionProduceResponse produce(
      RawKafkaClient client, Uuid topicId, short acks) throws Exception {
    final ProduceRequestData data = new ProduceRequestData().setAcks(acks).setTimeoutMs(30_000);
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
