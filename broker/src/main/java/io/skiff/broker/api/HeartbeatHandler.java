package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiMessage;

/** Heartbeat: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin. */
public final class HeartbeatHandler implements ApiHandler {
  private final GroupCoordinator coordinator;

  public HeartbeatHandler(GroupCoordinator coordinator) {
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final HeartbeatRequestData request = (HeartbeatRequestData) message;
    return CompletableFuture.completedFuture(
        new HeartbeatResponseData()
            .setErrorCode(
                coordinator
                    .heartbeat(
                        request.groupId(),
                        request.memberId(),
                        request.groupInstanceId(),
                        request.generationId())
                    .code()));
  }
}
