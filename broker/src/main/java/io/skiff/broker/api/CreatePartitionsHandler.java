package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import io.skiff.broker.memory.PartitionLimit;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * CreatePartitions: grows a topic to the requested count through the metadata group, which places
 * the new partitions' replicas as it does a new topic's (same replication factor); every broker
 * then creates its new replicas (the partition reconciler). {@code validate_only} checks without
 * growing.
 *
 * <p>Explicit replica assignments are refused with INVALID_REQUEST: Skiff always places new
 * partitions itself. A count at or below the current one is INVALID_PARTITIONS; an unknown topic
 * UNKNOWN_TOPIC_OR_PARTITION; growth beyond the tier's partition limit POLICY_VIOLATION. Stateless;
 * thread-safe.
 */
public final class CreatePartitionsHandler implements ApiHandler {
  private final ClusterView cluster;
  private final PartitionLimit partitionLimit;

  public CreatePartitionsHandler(ClusterView cluster, PartitionLimit partitionLimit) {
    this.cluster = cluster;
    this.partitionLimit = partitionLimit;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final CreatePartitionsRequestData request = (CreatePartitionsRequestData) message;
    final CreatePartitionsResponseData response = new CreatePartitionsResponseData();
    final List<CompletableFuture<?>> pending = new ArrayList<>();
    final Set<String> seen = new HashSet<>();
    long addedReplicas = 0;
    for (CreatePartitionsTopic t : request.topics()) {
      final CreatePartitionsTopicResult result =
          new CreatePartitionsTopicResult().setName(t.name()).setErrorCode(Errors.NONE.code());
      response.results().add(result);
      Refusal refusal = refusal(t, seen.add(t.name()));
      if (refusal == null) {
        final TopicInfo topic = cluster.topic(t.name()).orElseThrow();
        final int added = t.count() - topic.partitionCount();
        final int rf = topic.replicasOf(0).size();
        final Optional<String> overLimit =
            partitionLimit.refusal(cluster.image(), added, rf, addedReplicas);
        if (overLimit.isPresent()) {
          refusal = new Refusal(Errors.POLICY_VIOLATION, overLimit.get());
        } else {
          addedReplicas += (long) added * rf;
        }
      }
      if (refusal != null) {
        fail(result, refusal.error(), refusal.message());
      } else if (!request.validateOnly()) {
        pending.add(
            cluster
                .metadata()
                .createPartitions(t.name(), t.count())
                .orTimeout(Math.max(request.timeoutMs(), 1000), TimeUnit.MILLISECONDS)
                .handle(
                    (topic, error) -> {
                      if (error != null) {
                        fail(result, KafkaErrors.of(error), KafkaErrors.message(error));
                      }
                      return null;
                    }));
      }
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .thenApply(v -> response);
  }

  /** Why growing a topic was refused. */
  private record Refusal(Errors error, String message) {}

  /** Why the request for {@code t} cannot be done, or null if it can. */
  private Refusal refusal(CreatePartitionsTopic t, boolean firstMention) {
    if (!firstMention) {
      return new Refusal(
          Errors.INVALID_REQUEST, "topic '" + t.name() + "' appears more than once in the request");
    }
    if (t.assignments() != null && !t.assignments().isEmpty()) {
      return new Refusal(
          Errors.INVALID_REQUEST,
          "explicit replica assignments are not supported; omit them and Skiff places the new"
              + " partitions' replicas");
    }
    final Optional<TopicInfo> topic = cluster.topic(t.name());
    if (topic.isEmpty()) {
      return new Refusal(
          Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + t.name() + "' does not exist");
    }
    if (t.name().equals(GroupCoordinator.OFFSETS_TOPIC)) {
      return new Refusal(
          Errors.INVALID_TOPIC_EXCEPTION,
          "Cannot add partitions to internal topic "
              + t.name()
              + ": groups would move to other coordinators and lose their committed offsets");
    }
    final int current = topic.get().partitionCount();
    if (t.count() <= current) {
      return new Refusal(
          Errors.INVALID_PARTITIONS,
          t.count() == current
              ? "topic '" + t.name() + "' already has " + current + " partitions"
              : "topic '"
                  + t.name()
                  + "' has "
                  + current
                  + " partitions; a topic can only grow,"
                  + " not shrink to "
                  + t.count());
    }
    final int rf = topic.get().replicasOf(0).size();
    final long active =
        cluster.image().brokers().values().stream().filter(BrokerInfo::active).count();
    if (rf > active) {
      return new Refusal(
          Errors.INVALID_REPLICATION_FACTOR,
          "the topic's replication factor "
              + rf
              + " needs "
              + rf
              + " active brokers but "
              + active
              + " are registered");
    }
    return null;
  }

  private static void fail(CreatePartitionsTopicResult result, Errors error, String message) {
    result.setErrorCode(error.code()).setErrorMessage(message);
  }
}
