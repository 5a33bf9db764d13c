package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponsePartition;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * OffsetDelete: removes committed offsets of a group, except for topics its live members subscribe
 * to (GROUP_SUBSCRIBED_TO_TOPIC).
 */
public final class OffsetDeleteHandler implements ApiHandler {
  private final GroupCoordinator coordinator;

  public OffsetDeleteHandler(GroupCoordinator coordinator) {
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final OffsetDeleteRequestData request = (OffsetDeleteRequestData) message;
    final List<TopicPartition> partitions = new ArrayList<>();
    request
        .topics()
        .forEach(
            t ->
                t.partitions()
                    .forEach(
                        p -> partitions.add(new TopicPartition(t.name(), p.partitionIndex()))));
    return coordinator
        .deleteOffsets(request.groupId(), partitions)
        .thenApply(
            result -> {
              final OffsetDeleteResponseData response =
                  new OffsetDeleteResponseData().setErrorCode(result.getKey().code());
              if (result.getKey() != Errors.NONE) {
                return response;
              }
              for (OffsetDeleteRequestData.OffsetDeleteRequestTopic t : request.topics()) {
                final OffsetDeleteResponseTopic topic =
                    new OffsetDeleteResponseTopic().setName(t.name());
                response.topics().add(topic);
                for (OffsetDeleteRequestData.OffsetDeleteRequestPartition p : t.partitions()) {
                  final Errors error =
                      result
                          .getValue()
                          .getOrDefault(
                              new TopicPartition(t.name(), p.partitionIndex()), Errors.NONE);
                  topic
                      .partitions()
                      .add(
                          new OffsetDeleteResponsePartition()
                              .setPartitionIndex(p.partitionIndex())
                              .setErrorCode(error.code()));
                }
              }
              return response;
            });
  }
}
