package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import io.skiff.broker.group.JoinRequest;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * JoinGroup (classic protocol): answered when the group's rebalance completes, so the response may
 * wait up to the rebalance timeout. v4+ joins of new members get MEMBER_ID_REQUIRED first.
 */
public final class JoinGroupHandler implements ApiHandler {
  private final GroupCoordinator coordinator;

  public JoinGroupHandler(GroupCoordinator coordinator) {
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final JoinGroupRequestData request = (JoinGroupRequestData) message;
    final short version = context.version();
    return coordinator
        .join(
            request.groupId(),
            JoinRequest.of(request, context.header().clientId(), clientHost(context), version >= 4))
        .thenApply(response -> forVersion(response, version));
  }

  /** The client's address as Kafka reports it: {@code /127.0.0.1}. */
  static String clientHost(RequestContext context) {
    if (context.clientAddress() instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().toString();
    }
    return String.valueOf(context.clientAddress());
  }

  private static ApiMessage forVersion(JoinGroupResponseData response, short version) {
    if (version < 7 && response.protocolName() == null) {
      response.setProtocolName("");
    }
    if (response.leader() == null) {
      response.setLeader("");
    }
    return response;
  }
}
