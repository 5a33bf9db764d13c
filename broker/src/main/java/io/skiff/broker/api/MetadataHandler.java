package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import io.skiff.broker.memory.PartitionLimit;
import io.skiff.raft.membership.PartitionMembership.LeaderEpoch;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metadata: live brokers, and for each requested topic its id and partitions with leader, epoch and
 * replicas. A missing topic is created when {@code auto.create.topics.enable} is on and the client
 * allows it; it is then answered LEADER_NOT_AVAILABLE until its groups have leaders, as Kafka does,
 * and clients retry. A topic that would take the brokers over the tier's partition limit is not
 * created: the topic is answered POLICY_VIOLATION, the code CreateTopics gives for the same refusal
 * (MetadataResponse has no message field, so the reason is logged, once per topic name). Clients
 * treat it as a permanent topic error: librdkafka fails the messages queued for the topic with
 * "Broker: Policy violation" at once instead of waiting for a topic that never comes.
 *
 * <p>Thread-safe: the set of topics already warned about is concurrent and bounded.
 */
public final class MetadataHandler implements ApiHandler {
  private static final Logger LOG = LoggerFactory.getLogger(MetadataHandler.class);
  private static final int MAX_REFUSED_TOPICS = 10_000;

  private final ClusterView cluster;
  private final boolean autoCreate;
  private final int defaultPartitions;
  private final short defaultReplicationFactor;
  private final String clusterId;
  private final PartitionLimit partitionLimit;
  private final Set<String> refusedTopics = ConcurrentHashMap.newKeySet();

  public MetadataHandler(
      ClusterView cluster,
      boolean autoCreate,
      int defaultPartitions,
      short defaultReplicationFactor,
      String clusterId,
      PartitionLimit partitionLimit) {
    this.cluster = cluster;
    this.autoCreate = autoCreate;
    this.defaultPartitions = defaultPartitions;
    this.defaultReplicationFactor = defaultReplicationFactor;
    this.clusterId = clusterId;
    this.partitionLimit = partitionLimit;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final MetadataRequestData request = (MetadataRequestData) message;
    final MetadataImage image = cluster.image();
    final short version = context.version();
    final MetadataResponseData response = new MetadataResponseData();
    if (version >= 2) {
      response.setClusterId(clusterId);
    }
    if (version >= 1) {
      response.setControllerId(cluster.selfId());
    }
    for (BrokerInfo b : image.brokers().values()) {
      if (b.active()) {
        response
            .brokers()
            .add(
                new MetadataResponseBroker()
                    .setNodeId(b.nodeId())
                    .setHost(b.host())
                    .setPort(b.kafkaPort())
                    .setRack(b.rack().isEmpty() || version < 1 ? null : b.rack()));
      }
    }
    final Collection<TopicInfo> wanted;
    if (request.topics() == null) {
      wanted = image.topics().values();
    } else {
      wanted = new ArrayList<>();
      for (MetadataRequestData.MetadataRequestTopic t : request.topics()) {
        final var topic = cluster.topic(t.name(), t.topicId());
        if (topic.isPresent()) {
          wanted.add(topic.get());
        } else {
          response
              .topics()
              .add(missing(t, version < 4 || request.allowAutoTopicCreation(), version));
        }
      }
    }
    for (TopicInfo topic : wanted) {
      response.topics().add(describe(topic, version));
    }
    return CompletableFuture.completedFuture(response);
  }

  private MetadataResponseTopic describe(TopicInfo topic, short version) {
    final List<MetadataResponsePartition> partitions = new ArrayList<>();
    for (int p = 0; p < topic.partitionCount(); p++) {
      final LeaderEpoch leadership = cluster.leader(topic, p);
      final int leader = leadership.nodeId();
      final List<Integer> replicas = topic.allReplicasOf(p);
      partitions.add(
          new MetadataResponsePartition()
              .setPartitionIndex(p)
              .setErrorCode(leader < 0 ? Errors.LEADER_NOT_AVAILABLE.code() : Errors.NONE.code())
              .setLeaderId(leader)
              // -1 only while no replica told it: clients take -1 as "unknown", accept the
              // leader and forget the epoch they knew, while a guessed 0 below the epoch they
              // learned from a replica would be ignored as stale.
              .setLeaderEpoch((int) leadership.epoch())
              .setReplicaNodes(new ArrayList<>(replicas))
              .setIsrNodes(new ArrayList<>(topic.replicasOf(p)))
              .setOfflineReplicas(new ArrayList<>()));
    }
    return new MetadataResponseTopic()
        .setName(topic.name())
        .setTopicId(ClusterView.kafkaId(topic))
        .setErrorCode(Errors.NONE.code())
        .setIsInternal(topic.name().equals(GroupCoordinator.OFFSETS_TOPIC))
        .setPartitions(partitions);
  }

  private MetadataResponseTopic missing(
      MetadataRequestData.MetadataRequestTopic t, boolean clientAllows, short version) {
    final MetadataResponseTopic answer = new MetadataResponseTopic().setName(t.name());
    if (version >= 10) {
      answer.setTopicId(t.topicId() == null ? Uuid.ZERO_UUID : t.topicId());
    }
    if (t.name() == null || !autoCreate || !clientAllows) {
      return answer.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
    }
    final Optional<String> refusal =
        partitionLimit.refusal(cluster.image(), defaultPartitions, defaultReplicationFactor, 0);
    if (refusal.isPresent()) {
      warnOnce(t.name(), refusal.get());
      return answer.setErrorCode(Errors.POLICY_VIOLATION.code());
    }
    cluster
        .metadata()
        .createTopic(t.name(), defaultPartitions, defaultReplicationFactor, Map.of())
        .whenComplete(
            (created, error) -> {
              if (error != null) {
                LOG.debug("Auto-creation of topic {} failed: {}", t.name(), error.getMessage());
              } else {
                LOG.info("Auto-created topic {}", t.name());
              }
            });
    return answer.setErrorCode(Errors.LEADER_NOT_AVAILABLE.code());
  }

  /** Logs a refused auto-creation once per topic name; clients ask again many times a second. */
  private void warnOnce(String topic, String reason) {
    if (refusedTopics.size() >= MAX_REFUSED_TOPICS) {
      refusedTopics.clear(); // a client cycling through names must not grow this without bound
    }
    if (refusedTopics.add(topic)) {
      LOG.warn("Not auto-creating topic {} (clients get POLICY_VIOLATION): {}", topic, reason);
    }
  }
}
