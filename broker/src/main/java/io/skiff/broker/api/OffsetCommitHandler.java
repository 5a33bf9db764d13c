package io.skiff.broker.api;

import io.skiff.broker.group.CommittedOffset;
import io.skiff.broker.group.GroupCoordinator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * OffsetCommit (v2-9, topics by name): from a member of the current generation, or with generation
 * -1 for a group without members (admin tools, consumers using {@code assign}). Offsets of topics
 * that do not exist are refused with UNKNOWN_TOPIC_OR_PARTITION, as Kafka does.
 */
public final class OffsetCommitHandler implements ApiHandler {
  private final ClusterView cluster;
  private final GroupCoordinator coordinator;

  public OffsetCommitHandler(ClusterView cluster, GroupCoordinator coordinator) {
    this.cluster = cluster;
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final OffsetCommitRequestData request = (OffsetCommitRequestData) message;
    final long now = System.currentTimeMillis();
    final Map<TopicPartition, CommittedOffset> offsets = new HashMap<>();
    final Map<TopicPartition, Errors> refused = new HashMap<>();
    for (OffsetCommitRequestData.OffsetCommitRequestTopic t : request.topics()) {
      final var topic = cluster.topic(t.name());
      for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
        final TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
        if (topic.isEmpty() || p.partitionIndex() >= topic.get().partitionCount()) {
          refused.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
        } else {
          offsets.put(
              tp,
              new CommittedOffset(
                  p.committedOffset(), p.committedLeaderEpoch(), p.committedMetadata(), now));
        }
      }
    }
    return coordinator
        .commit(
            request.groupId(),
            request.memberId(),
            request.groupInstanceId(),
            request.generationIdOrMemberEpoch(),
            offsets)
        .thenApply(
            result -> {
              result.putAll(refused);
              return response(request, result);
            });
  }

  private static ApiMessage response(
      OffsetCommitRequestData request, Map<TopicPartition, Errors> result) {
    final OffsetCommitResponseData response = new OffsetCommitResponseData();
    for (OffsetCommitRequestData.OffsetCommitRequestTopic t : request.topics()) {
      final OffsetCommitResponseTopic topic = new OffsetCommitResponseTopic().setName(t.name());
      response.topics().add(topic);
      for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
        final Errors error =
            result.getOrDefault(
                new TopicPartition(t.name(), p.partitionIndex()), Errors.UNKNOWN_SERVER_ERROR);
        topic
            .partitions()
            .add(
                new OffsetCommitResponsePartition()
                    .setPartitionIndex(p.partitionIndex())
                    .setErrorCode(error.code()));
      }
    }
    return response;
  }
}
