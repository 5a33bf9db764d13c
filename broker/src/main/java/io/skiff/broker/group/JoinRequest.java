package io.skiff.broker.group;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.message.JoinGroupRequestData;

/**
 * A JoinGroup request as the group state machine needs it.
 *
 * @param memberId empty for a member joining for the first time
 * @param instanceId {@code group.instance.id} of a static member, else null
 * @param rebalanceTimeoutMs -1 (JoinGroup v0) means the session timeout
 * @param requireKnownMemberId JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED
 *     with its id, and joins again with it
 */
public record JoinRequest(
    String memberId,
    String instanceId,
    String clientId,
    String clientHost,
    int sessionTimeoutMs,
    int rebalanceTimeoutMs,
    String protocolType,
    List<Protocol> protocols,
    boolean requireKnownMemberId) {

  /** A protocol (assignor) the member supports, with its subscription metadata. */
  public record Protocol(String name, byte[] metadata) {}

  public static JoinRequest of(
      JoinGroupRequestData request,
      String clientId,
      String clientHost,
      boolean requireKnownMemberId) {
    final List<Protocol> protocols = new ArrayList<>();
    request.protocols().forEach(p -> protocols.add(new Protocol(p.name(), p.metadata())));
    return new JoinRequest(
        request.memberId() == null ? "" : request.memberId(),
        request.groupInstanceId(),
        clientId == null ? "" : clientId,
        clientHost,
        request.sessionTimeoutMs(),
        request.rebalanceTimeoutMs(),
        request.protocolType(),
        List.copyOf(protocols),
        requireKnownMemberId);
  }
}
