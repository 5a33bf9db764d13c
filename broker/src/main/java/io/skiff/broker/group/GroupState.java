package io.skiff.broker.group;

/** The states of a classic group, named as Kafka's DescribeGroups and ListGroups report them. */
public enum GroupState {
  /** No members; may still hold committed offsets. */
  EMPTY("Empty"),
  /** Waiting for every member to (re)join. */
  PREPARING_REBALANCE("PreparingRebalance"),
  /** Joined; waiting for the leader's assignment in SyncGroup. */
  COMPLETING_REBALANCE("CompletingRebalance"),
  /** Assigned; members heartbeat. */
  STABLE("Stable"),
  /** Deleted, or no longer coordinated here. */
  DEAD("Dead");

  private final String kafkaName;

  GroupState(String kafkaName) {
    this.kafkaName = kafkaName;
  }

  public String kafkaName() {
    return kafkaName;
  }
}
