package io.skiff.broker.api;

import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DeleteTopics by name or id through the metadata group; every broker then removes its replicas and
 * their data (the partition reconciler).
 */
public final class DeleteTopicsHandler implements ApiHandler {
  private final ClusterView cluster;

  public DeleteTopicsHandler(ClusterView cluster) {
    this.cluster = cluster;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final DeleteTopicsRequestData request = (DeleteTopicsRequestData) message;
    final DeleteTopicsResponseData response = new DeleteTopicsResponseData();
    final List<CompletableFuture<?>> pending = new ArrayList<>();
    final List<DeleteTopicsRequestData.DeleteTopicState> wanted = new ArrayList<>(request.topics());
    for (String name : request.topicNames()) {
      wanted.add(new DeleteTopicsRequestData.DeleteTopicState().setName(name));
    }
    for (DeleteTopicsRequestData.DeleteTopicState t : wanted) {
      final Optional<TopicInfo> topic = cluster.topic(t.name(), t.topicId());
      final DeletableTopicResult result =
          new DeletableTopicResult().setName(topic.map(TopicInfo::name).orElse(t.name()));
      if (context.version() >= 6) {
        result.setTopicId(topic.map(ClusterView::kafkaId).orElse(Uuid.ZERO_UUID));
      }
      response.responses().add(result);
      if (topic.isEmpty()) {
        result.setErrorCode(
            t.name() == null
                ? Errors.UNKNOWN_TOPIC_ID.code()
                : Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        continue;
      }
      pending.add(
          cluster
              .metadata()
              .deleteTopic(topic.get().name())
              .orTimeout(Math.max(request.timeoutMs(), 1000), TimeUnit.MILLISECONDS)
              .handle(
                  (v, error) -> {
                    if (error != null) {
                      result.setErrorCode(KafkaErrors.of(error).code());
                      if (context.version() >= 5) {
                        result.setErrorMessage(KafkaErrors.message(error));
                      }
                    }
                    return null;
                  }));
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .thenApply(v -> response);
  }
}
