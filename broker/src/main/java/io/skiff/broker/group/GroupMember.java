package io.skiff.broker.group;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;

/** A member of a classic group. Mutable; guarded by its {@link ClassicGroup}'s monitor. */
final class GroupMember {
  String memberId;
  final String instanceId;
  final String clientId;
  final String clientHost;
  int rebalanceTimeoutMs;
  int sessionTimeoutMs;
  List<JoinRequest.Protocol> protocols;
  byte[] assignment = new byte[0];
  long lastHeartbeatMs;
  CompletableFuture<JoinGroupResponseData> joinFuture;
  CompletableFuture<SyncGroupResponseData> syncFuture;

  GroupMember(
      String memberId,
      String instanceId,
      String clientId,
      String clientHost,
      int rebalanceTimeoutMs,
      int sessionTimeoutMs,
      List<JoinRequest.Protocol> protocols) {
    this.memberId = memberId;
    this.instanceId = instanceId;
    this.clientId = clientId;
    this.clientHost = clientHost;
    this.rebalanceTimeoutMs = rebalanceTimeoutMs;
    this.sessionTimeoutMs = sessionTimeoutMs;
    this.protocols = protocols;
  }

  byte[] metadata(String protocol) {
    for (JoinRequest.Protocol p : protocols) {
      if (p.name().equals(protocol)) {
        return p.metadata();
      }
    }
    return new byte[0];
  }

  boolean supports(String protocol) {
    return protocols.stream().anyMatch(p -> p.name().equals(protocol));
  }

  boolean sameProtocols(List<JoinRequest.Protocol> other) {
    if (other.size() != protocols.size()) {
      return false;
    }
    for (int i = 0; i < other.size(); i++) {
      if (!other.get(i).name().equals(protocols.get(i).name())
          || !java.util.Arrays.equals(other.get(i).metadata(), protocols.get(i).metadata())) {
        return false;
      }
    }
    return true;
  }

  boolean awaitingJoin() {
    return joinFuture != null;
  }
}
