package io.skiff.broker.api;

import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignablePartition;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignableTopic;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignablePartitionResponse;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignableTopicResponse;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * AlterPartitionReassignments: records, per partition, a target replica list (or with null
 * replicas, a cancellation) in the metadata group, and answers once it is recorded; the partition's
 * leader then moves the data ({@link io.skiff.raft.membership.ReassignmentDriver}), as Kafka's
 * controller answers before the replicas have moved. Per partition: NONE,
 * UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT (empty, repeated, unknown or
 * decommissioned brokers), INVALID_REPLICATION_FACTOR (v1 with allowReplicationFactorChange false),
 * NO_REASSIGNMENT_IN_PROGRESS (cancelling none), REQUEST_TIMED_OUT. Stateless; thread-safe.
 */
public final class AlterPartitionReassignmentsHandler implements ApiHandler {
  private final ClusterView cluster;

  public AlterPartitionReassignmentsHandler(ClusterView cluster) {
    this.cluster = cluster;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final AlterPartitionReassignmentsRequestData request =
        (AlterPartitionReassignmentsRequestData) message;
    final boolean allowRfChange = context.version() < 1 || request.allowReplicationFactorChange();
    final long timeoutMs = Math.max(request.timeoutMs(), 1000);
    final AlterPartitionReassignmentsResponseData response =
        new AlterPartitionReassignmentsResponseData().setErrorCode(Errors.NONE.code());
    if (context.version() >= 1) {
      response.setAllowReplicationFactorChange(allowRfChange);
    }
    final List<CompletableFuture<?>> pending = new ArrayList<>();
    for (ReassignableTopic t : request.topics()) {
      final ReassignableTopicResponse answer = new ReassignableTopicResponse().setName(t.name());
      response.responses().add(answer);
      for (ReassignablePartition p : t.partitions()) {
        final ReassignablePartitionResponse result =
            new ReassignablePartitionResponse().setPartitionIndex(p.partitionIndex());
        answer.partitions().add(result);
        final String refusal = rfRefusal(t.name(), p, allowRfChange);
        if (refusal != null) {
          result.setErrorCode(Errors.INVALID_REPLICATION_FACTOR.code()).setErrorMessage(refusal);
          continue;
        }
        pending.add(alter(t.name(), p, timeoutMs, result));
      }
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .thenApply(v -> response);
  }

  private CompletableFuture<Void> alter(
      String topic, ReassignablePartition p, long timeoutMs, ReassignablePartitionResponse result) {
    return cluster
        .metadata()
        .alterReassignment(topic, p.partitionIndex(), p.replicas())
        .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .handle(
            (v, error) -> {
              if (error == null) {
                result.setErrorCode(Errors.NONE.code());
              } else {
                result
                    .setErrorCode(KafkaErrors.of(error).code())
                    .setErrorMessage(KafkaErrors.message(error));
              }
              return null;
            });
  }

  /** Why a target that changes the replica count is refused, or null if it is not refused. */
  private String rfRefusal(String topicName, ReassignablePartition p, boolean allowRfChange) {
    if (allowRfChange || p.replicas() == null) {
      return null;
    }
    final Optional<TopicInfo> topic = cluster.topic(topicName);
    if (topic.isEmpty()
        || p.partitionIndex() < 0
        || p.partitionIndex() >= topic.get().partitionCount()) {
      return null; // the metadata group refuses it with UNKNOWN_TOPIC_OR_PARTITION
    }
    final int current = topic.get().replicasOf(p.partitionIndex()).size();
    return p.replicas().size() == current
        ? null
        : "the target has "
            + p.replicas().size()
            + " replicas but the partition has "
            + current
            + "; allow replication factor changes to change it";
  }
}
