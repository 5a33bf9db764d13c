package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NOT_LEADER_OR_FOLLOWER answers to Produce (v13) and Fetch (v16) in the first seconds of a topic's
 * life, asked of every broker for every partition from the moment CreateTopics returns: a KIP-951
 * current leader is either a real broker, with its endpoint in the response, or left out (so the
 * client refreshes its metadata) — never leader -1, which librdkafka cannot use and keeps retrying
 * on ("new leader-1 not found in cache").
 */
class NotLeaderResponsesTest {
  private static final String TOPIC = "young";
  private static final int PARTITIONS = 6;

  @TempDir Path dir;

  @Test
  void notLeaderAnswersNameARealLeaderWithItsEndpointOrNone() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 3, Map.of());
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      final Map<Integer, RawKafkaClient> clients = new HashMap<>();
      for (int id : cluster.runningIds()) {
        clients.put(id, new RawKafkaClient(cluster.broker(id).kafkaPort()));
      }
      try {
        final Uuid topicId =
            admin
                .createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1)))
                .topicId(TOPIC)
                .get(60, TimeUnit.SECONDS);
        final Set<Integer> written = new HashSet<>();
        final List<String> wrong = new ArrayList<>();
        int notLeader = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (written.size() < PARTITIONS && System.nanoTime() < deadline) {
          for (Map.Entry<Integer, RawKafkaClient> broker : clients.entrySet()) {
            for (int p = 0; p < PARTITIONS; p++) {
              final ProduceResponseData produced = produce(broker.getValue(), topicId, p);
              final ProduceResponseData.PartitionProduceResponse answer =
                  produced.responses().iterator().next().partitionResponses().get(0);
              if (answer.errorCode() == Errors.NONE.code()) {
                written.add(p);
              } else if (answer.errorCode() == Errors.NOT_LEADER_OR_FOLLOWER.code()) {
                notLeader++;
                check(
                    "produce to broker " + broker.getKey() + " partition " + p,
                    answer.currentLeader().leaderId(),
                    answer.currentLeader().leaderEpoch(),
                    produced.nodeEndpoints().stream()
                        .map(ProduceResponseData.NodeEndpoint::nodeId)
                        .toList(),
                    wrong);
              }
              final FetchResponseData fetched = fetch(broker.getValue(), topicId, p);
              final FetchResponseData.PartitionData data =
                  fetched.responses().get(0).partitions().get(0);
              if (data.errorCode() == Errors.NOT_LEADER_OR_FOLLOWER.code()) {
                check(
                    "fetch from broker " + broker.getKey() + " partition " + p,
                    data.currentLeader().leaderId(),
                    data.currentLeader().leaderEpoch(),
                    fetched.nodeEndpoints().stream()
                        .map(FetchResponseData.NodeEndpoint::nodeId)
                        .toList(),
                    wrong);
              }
            }
          }
        }
        assertThat(written).as("partitions a produce reached").hasSize(PARTITIONS);
        assertThat(notLeader).as("NOT_LEADER_OR_FOLLOWER answers seen").isPositive();
        assertThat(wrong).isEmpty();
      } finally {
        for (RawKafkaClient c : clients.values()) {
          c.close();
        }
      }
    }
  }

  /** A named leader must be a broker whose endpoint the response carries; else nothing is named. */
  private static void check(
      String what, int leaderId, int leaderEpoch, List<Integer> endpoints, List<String> wrong) {
    final boolean omitted = leaderId == -1 && leaderEpoch == -1;
    if (!omitted && (leaderId < 0 || !endpoints.contains(leaderId))) {
      wrong.add(
          what
              + ": current leader "
              + leaderId
              + " epoch "
              + leaderEpoch
              + ", endpoints "
              + endpoints);
    }
  }

  private static ProduceResponseData produce(RawKafkaClient client, Uuid topicId, int partition)
      throws Exception {
    final ProduceRequestData data =
        new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000);
    final ProduceRequestData.TopicProduceData topic =
        new ProduceRequestData.TopicProduceData().setTopicId(topicId);
    topic
        .partitionData()
        .add(
            new ProduceRequestData.PartitionProduceData()
                .setIndex(partition)
                .setRecords(
                    MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("v".getBytes()))));
    data.topicData().add(topic);
    return ((ProduceResponse) client.call(new ProduceRequest(data, (short) 13))).data();
  }

  private static FetchResponseData fetch(RawKafkaClient client, Uuid topicId, int partition)
      throws Exception {
    return client.fetch(topicId, partition, 0, -1);
  }
}
