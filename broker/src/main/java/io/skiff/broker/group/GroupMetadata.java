package io.skiff.broker.group;

import java.util.List;

/**
 * A classic group as it is written to {@code __consumer_offsets} after each rebalance: enough to
 * resume it on a new coordinator without a rebalance (members keep their generation and assignment
 * and only need to heartbeat).
 *
 * @param protocolType e.g. {@code consumer}; null for a group that only commits offsets
 * @param generation the generation id
 * @param protocol the selected protocol (assignor), null when the group is Empty
 * @param leader the leader's member id, null when the group is Empty
 * @param members the members with their subscription (for the selected protocol) and assignment
 */
public record GroupMetadata(
    String protocolType, int generation, String protocol, String leader, List<Member> members) {

  /** One member of a persisted group. */
  public record Member(
      String memberId,
      String instanceId,
      String clientId,
      String clientHost,
      int rebalanceTimeoutMs,
      int sessionTimeoutMs,
      byte[] subscription,
      byte[] assignment) {}
}
