package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * SyncGroup: the leader hands in the assignment, which is replicated before every member gets its
 * part; followers wait for it.
 */
public final class SyncGroupHandler implements ApiHandler {
  private final GroupCoordinator coordinator;

  public SyncGroupHandler(GroupCoordinator coordinator) {
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final SyncGroupRequestData request = (SyncGroupRequestData) message;
    final Map<String, byte[]> assignments = new HashMap<>();
    request.assignments().forEach(a -> assignments.put(a.memberId(), a.assignment()));
    return coordinator
        .sync(
            request.groupId(),
            request.memberId(),
            request.groupInstanceId(),
            request.generationId(),
            assignments)
        .thenApply(r -> r);
  }
}
