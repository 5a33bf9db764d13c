package io.skiff.raft.metadata;

import io.skiff.raft.metadata.MetadataException.Error;
import io.skiff.raft.metadata.MetadataState.Result;
import java.util.List;
import java.util.Map;

/**
 * The rules of the broker membership states ({@link BrokerState}) the metadata log applies: which
 * transitions an operator may ask for, the capacity check that refuses a decommission the other
 * brokers cannot absorb, and the step that marks a draining broker decommissioned once it holds no
 * replica and no reassignment targets it. Deterministic, so every metadata replica decides alike.
 *
 * <p>Not thread-safe: called on the metadata group's apply thread with {@link MetadataState}'s
 * maps.
 */
final class BrokerTransition {
  private BrokerTransition() {}

  /** Moves {@code nodeId} to {@code target}, or refuses with the reason. */
  static Result apply(
      Map<Integer, BrokerInfo> brokers, Map<String, TopicInfo> topics, int nodeId, BrokerState to) {
    final BrokerInfo broker = brokers.get(nodeId);
    if (broker == null) {
      return Result.refused(
          Error.UNKNOWN_BROKER, "broker " + nodeId + " is not registered; see GET /v1/brokers");
    }
    final BrokerState from = broker.state();
    if (from == to) {
      return Result.OK;
    }
    final Result refused =
        switch (to) {
          case MAINTENANCE ->
              from == BrokerState.ACTIVE
                  ? null
                  : invalid(nodeId, from, "maintenance; recommission it first");
          case ACTIVE -> null; // maintenance off, or recommission
          case DRAINING -> checkCapacity(brokers, topics, nodeId);
          case DECOMMISSIONED ->
              invalid(nodeId, from, "decommissioned directly; decommission drains it first");
        };
    if (refused != null) {
      return refused;
    }
    brokers.put(nodeId, broker.withState(to));
    return Result.OK;
  }

  private static Result invalid(int nodeId, BrokerState from, String what) {
    return Result.refused(
        Error.INVALID_REQUEST,
        "broker " + nodeId + " is " + from.label() + " and cannot be " + what);
  }

  /**
   * Every partition on {@code nodeId} needs as many other replica-accepting brokers as its
   * replication factor; otherwise the drain could never finish.
   */
  private static Result checkCapacity(
      Map<Integer, BrokerInfo> brokers, Map<String, TopicInfo> topics, int nodeId) {
    final long others =
        brokers.values().stream()
            .filter(b -> b.nodeId() != nodeId && b.state().acceptsReplicas())
            .count();
    for (TopicInfo topic : topics.values()) {
      for (List<Integer> replicas : topic.replicas()) {
        if (replicas.contains(nodeId) && replicas.size() > others) {
          return Result.refused(
              Error.INVALID_REPLICATION_FACTOR,
              "cannot decommission broker "
                  + nodeId
                  + ": topic '"
                  + topic.name()
                  + "' has replication factor "
                  + replicas.size()
                  + " but only "
                  + others
                  + " other brokers can take replicas; add a broker or lower the replication"
                  + " factor first");
        }
      }
    }
    return null;
  }

  /** Marks every draining broker that no partition and no reassignment names decommissioned. */
  static void settleDrains(Map<Integer, BrokerInfo> brokers, Map<String, TopicInfo> topics) {
    for (BrokerInfo b : List.copyOf(brokers.values())) {
      if (b.state() == BrokerState.DRAINING && !hosts(topics, b.nodeId())) {
        brokers.put(b.nodeId(), b.withState(BrokerState.DECOMMISSIONED));
      }
    }
  }

  /** Whether any replica list or reassignment target names {@code nodeId}. */
  static boolean hosts(Map<String, TopicInfo> topics, int nodeId) {
    for (TopicInfo topic : topics.values()) {
      for (List<Integer> replicas : topic.replicas()) {
        if (replicas.contains(nodeId)) {
          return true;
        }
      }
      for (List<Integer> target : topic.reassignments().values()) {
        if (target.contains(nodeId)) {
          return true;
        }
      }
    }
    return false;
  }
}
