package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.ReplicatedPartition;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsPartitionResult;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DeleteRecords on the partition leader: the request becomes a Raft entry ({@link
 * ReplicatedPartition#deleteRecordsBefore}) so that every replica's log start moves, not only the
 * leader's. The answer comes once the entry is committed and applied on the leader, with the
 * leader's new log start as the low watermark. Offset -1 means the high watermark.
 *
 * <p>Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER (not the leader, or
 * no replica here), OFFSET_OUT_OF_RANGE (above the high watermark), REQUEST_TIMED_OUT; the low
 * watermark is then -1. Stateless; thread-safe.
 */
public final class DeleteRecordsHandler implements ApiHandler {
  private static final long INVALID_LOW_WATERMARK = -1;

  private final ClusterView cluster;

  public DeleteRecordsHandler(ClusterView cluster) {
    this.cluster = cluster;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final DeleteRecordsRequestData request = (DeleteRecordsRequestData) message;
    final DeleteRecordsResponseData response = new DeleteRecordsResponseData();
    final long timeoutMs = Math.max(request.timeoutMs(), 1000);
    final List<CompletableFuture<?>> pending = new ArrayList<>();
    for (DeleteRecordsTopic t : request.topics()) {
      final DeleteRecordsTopicResult topicResult = new DeleteRecordsTopicResult().setName(t.name());
      response.topics().add(topicResult);
      final Optional<TopicInfo> topic = cluster.topic(t.name());
      for (DeleteRecordsPartition p : t.partitions()) {
        final DeleteRecordsPartitionResult result =
            new DeleteRecordsPartitionResult()
                .setPartitionIndex(p.partitionIndex())
                .setLowWatermark(INVALID_LOW_WATERMARK)
                .setErrorCode(Errors.NONE.code());
        topicResult.partitions().add(result);
        pending.add(delete(topic, p, timeoutMs, result));
      }
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .thenApply(v -> response);
  }

  private CompletableFuture<?> delete(
      Optional<TopicInfo> topic,
      DeleteRecordsPartition p,
      long timeoutMs,
      DeleteRecordsPartitionResult result) {
    if (topic.isEmpty()
        || p.partitionIndex() < 0
        || p.partitionIndex() >= topic.get().partitionCount()) {
      result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
      return CompletableFuture.completedFuture(null);
    }
    if (topic.get().name().equals(GroupCoordinator.OFFSETS_TOPIC)) {
      result.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code()); // Kafka: internal topic
      return CompletableFuture.completedFuture(null);
    }
    final Optional<ReplicatedPartition> replica = cluster.local(topic.get(), p.partitionIndex());
    if (replica.isEmpty()) {
      result.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
      return CompletableFuture.completedFuture(null);
    }
    return replica
        .get()
        .deleteRecordsBefore(p.offset())
        .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .handle(
            (logStart, error) -> {
              if (error != null) {
                result.setErrorCode(KafkaErrors.of(error).code());
              } else {
                result.setLowWatermark(logStart);
              }
              return null;
            });
  }
}
