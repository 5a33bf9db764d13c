package io.skiff.broker.api;

import io.skiff.log.TimestampOffset;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.ReplicatedPartition;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ListOffsets from the partition leader: latest (-1) is the high watermark, as Kafka answers
 * consumers; earliest (-2) the log start; max timestamp (-3) the batch with the largest timestamp;
 * a timestamp the first record at or after it, or -1 when there is none. Only committed records
 * (below the high watermark) are answers ({@link ReplicatedPartition#offsetForTimestamp}).
 */
public final class ListOffsetsHandler implements ApiHandler {
  private final ClusterView cluster;

  public ListOffsetsHandler(ClusterView cluster) {
    this.cluster = cluster;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final ListOffsetsRequestData request = (ListOffsetsRequestData) message;
    final ListOffsetsResponseData response = new ListOffsetsResponseData();
    for (ListOffsetsRequestData.ListOffsetsTopic t : request.topics()) {
      final ListOffsetsTopicResponse topicResponse =
          new ListOffsetsTopicResponse().setName(t.name());
      response.topics().add(topicResponse);
      final Optional<TopicInfo> topic = cluster.topic(t.name());
      for (ListOffsetsRequestData.ListOffsetsPartition p : t.partitions()) {
        topicResponse.partitions().add(answer(topic, p, context.version()));
      }
    }
    return CompletableFuture.completedFuture(response);
  }

  private ListOffsetsPartitionResponse answer(
      Optional<TopicInfo> topic, ListOffsetsRequestData.ListOffsetsPartition p, short version) {
    final ListOffsetsPartitionResponse answer =
        new ListOffsetsPartitionResponse()
            .setPartitionIndex(p.partitionIndex())
            .setTimestamp(-1)
            .setOffset(-1);
    if (topic.isEmpty() || p.partitionIndex() >= topic.get().partitionCount()) {
      return answer.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
    }
    final Optional<ReplicatedPartition> replica = cluster.local(topic.get(), p.partitionIndex());
    if (replica.isEmpty()) {
      return answer.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
    }
    final ReplicatedPartition r = replica.get();
    final Errors epoch = KafkaErrors.leaderEpochCheck(p.currentLeaderEpoch(), r.leaderEpoch());
    if (epoch != Errors.NONE) {
      return answer.setErrorCode(epoch.code());
    }
    if (!r.leadershipConfirmed()) {
      // Not ready, or not confirmed since its network healed: its high watermark may be behind
      // what a newer leader committed.
      return answer.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
    }
    if (version >= 4) {
      answer.setLeaderEpoch((int) r.leaderEpoch());
    }
    try {
      final TimestampOffset found = r.offsetForTimestamp(p.timestamp());
      if (found != null) {
        answer.setOffset(found.offset()).setTimestamp(found.timestamp());
      }
      return answer;
    } catch (IllegalArgumentException e) {
      return answer.setErrorCode(Errors.INVALID_REQUEST.code());
    } catch (java.io.IOException | RuntimeException e) {
      return answer.setErrorCode(KafkaErrors.of(e).code());
    }
  }
}
