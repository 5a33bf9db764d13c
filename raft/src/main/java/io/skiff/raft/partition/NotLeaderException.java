package io.skiff.raft.partition;

import java.util.Optional;

/**
 * This node does not lead the partition's group. Carries the leader's node id when known, so the
 * protocol layer can answer NOT_LEADER_OR_FOLLOWER with the current leader and clients re-route.
 */
public final class NotLeaderException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient PartitionId partition;
  private final int leaderNodeId;

  public NotLeaderException(PartitionId partition, int leaderNodeId, String detail) {
    super(
        "not the leader of "
            + partition
            + (leaderNodeId >= 0 ? "; the leader is node " + leaderNodeId : "; no leader known")
            + (detail == null ? "" : " (" + detail + ")"));
    this.partition = partition;
    this.leaderNodeId = leaderNodeId;
  }

  public PartitionId partition() {
    return partition;
  }

  /** The leader's node id, if this node knows it. */
  public Optional<Integer> leaderNodeId() {
    return leaderNodeId >= 0 ? Optional.of(leaderNodeId) : Optional.empty();
  }
}
