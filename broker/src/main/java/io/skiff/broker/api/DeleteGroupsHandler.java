package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * DeleteGroups: each group must be Empty (NON_EMPTY_GROUP otherwise); its offsets and metadata get
 * tombstones in {@code __consumer_offsets}.
 */
public final class DeleteGroupsHandler implements ApiHandler {
  private final GroupCoordinator coordinator;

  public DeleteGroupsHandler(GroupCoordinator coordinator) {
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final DeleteGroupsRequestData request = (DeleteGroupsRequestData) message;
    final DeleteGroupsResponseData response = new DeleteGroupsResponseData();
    final List<CompletableFuture<?>> pending = new ArrayList<>();
    for (String groupId : request.groupsNames()) {
      final DeletableGroupResult result = new DeletableGroupResult().setGroupId(groupId);
      response.results().add(result);
      pending.add(
          coordinator
              .deleteGroup(groupId)
              .thenAccept(
                  error -> {
                    synchronized (response) {
                      result.setErrorCode(error.code());
                    }
                  }));
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              synchronized (response) {
                return response;
              }
            });
  }
}
