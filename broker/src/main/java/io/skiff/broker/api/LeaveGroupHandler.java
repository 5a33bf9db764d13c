package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * LeaveGroup: one member (v0-2) or a batch named by member or instance id (v3+); the group
 * rebalances without them.
 */
public final class LeaveGroupHandler implements ApiHandler {
  private final GroupCoordinator coordinator;

  public LeaveGroupHandler(GroupCoordinator coordinator) {
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final LeaveGroupRequestData request = (LeaveGroupRequestData) message;
    final LeaveGroupResponseData response = new LeaveGroupResponseData();
    if (context.version() < 3) {
      response.setErrorCode(coordinator.leave(request.groupId(), request.memberId(), null).code());
      return CompletableFuture.completedFuture(response);
    }
    final Errors routing = coordinator.coordinatorError(request.groupId());
    if (routing != Errors.NONE) {
      return CompletableFuture.completedFuture(response.setErrorCode(routing.code()));
    }
    for (LeaveGroupRequestData.MemberIdentity m : request.members()) {
      final Errors error = coordinator.leave(request.groupId(), m.memberId(), m.groupInstanceId());
      response
          .members()
          .add(
              new LeaveGroupResponseData.MemberResponse()
                  .setMemberId(m.memberId())
                  .setGroupInstanceId(m.groupInstanceId())
                  .setErrorCode(error.code()));
    }
    return CompletableFuture.completedFuture(response);
  }
}
