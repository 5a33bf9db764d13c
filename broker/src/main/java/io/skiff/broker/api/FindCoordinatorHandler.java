package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.TopicInfo;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;

/**
 * FindCoordinator for groups: the coordinator is the leader of the {@code __consumer_offsets}
 * partition the group id hashes to (the topic is created on first need; until its leaders are
 * elected the answer is COORDINATOR_NOT_AVAILABLE and clients retry). v4+ answers a batch of keys.
 * Transaction coordinators are not supported (COORDINATOR_NOT_AVAILABLE... as Kafka without them).
 */
public final class FindCoordinatorHandler implements ApiHandler {
  private final ClusterView cluster;
  private final GroupCoordinator coordinator;

  public FindCoordinatorHandler(ClusterView cluster, GroupCoordinator coordinator) {
    this.cluster = cluster;
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final FindCoordinatorRequestData request = (FindCoordinatorRequestData) message;
    final FindCoordinatorResponseData response = new FindCoordinatorResponseData();
    final List<String> keys =
        context.version() >= 4 ? request.coordinatorKeys() : List.of(request.key());
    for (String key : keys) {
      final FindCoordinatorResponseData.Coordinator found = find(request.keyType(), key);
      if (context.version() >= 4) {
        response.coordinators().add(found);
      } else {
        response
            .setErrorCode(found.errorCode())
            .setNodeId(found.nodeId())
            .setHost(found.host())
            .setPort(found.port());
        if (context.version() >= 1) {
          response.setErrorMessage(found.errorMessage());
        }
      }
    }
    return CompletableFuture.completedFuture(response);
  }

  private FindCoordinatorResponseData.Coordinator find(byte keyType, String key) {
    final FindCoordinatorResponseData.Coordinator answer =
        new FindCoordinatorResponseData.Coordinator()
            .setKey(key)
            .setNodeId(-1)
            .setHost("")
            .setPort(-1);
    if (keyType != CoordinatorType.GROUP.id()) {
      return fail(answer, Errors.COORDINATOR_NOT_AVAILABLE, "only group coordinators exist here");
    }
    if (key == null || key.isEmpty()) {
      return fail(answer, Errors.INVALID_REQUEST, "the group id is empty");
    }
    final Optional<TopicInfo> topic = coordinator.offsetsTopic();
    if (topic.isEmpty()) {
      return fail(answer, Errors.COORDINATOR_NOT_AVAILABLE, "creating __consumer_offsets");
    }
    final int partition = GroupCoordinator.partitionFor(key, topic.get().partitionCount());
    final int leader = cluster.leaderOf(topic.get(), partition);
    final Optional<BrokerInfo> broker = leader < 0 ? Optional.empty() : cluster.broker(leader);
    if (broker.isEmpty()) {
      return fail(
          answer,
          Errors.COORDINATOR_NOT_AVAILABLE,
          "__consumer_offsets-" + partition + " has no leader yet");
    }
    return answer
        .setNodeId(broker.get().nodeId())
        .setHost(broker.get().host())
        .setPort(broker.get().kafkaPort());
  }

  private static FindCoordinatorResponseData.Coordinator fail(
      FindCoordinatorResponseData.Coordinator answer, Errors error, String message) {
    return answer.setErrorCode(error.code()).setErrorMessage(message);
  }
}
