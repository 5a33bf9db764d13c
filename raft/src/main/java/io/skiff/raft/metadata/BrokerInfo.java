package io.skiff.raft.metadata;

/**
 * A registered broker.
 *
 * @param nodeId {@code node.id}
 * @param host address clients and peers reach it at
 * @param kafkaPort Kafka listener port
 * @param raftPort Raft port
 * @param rack {@code broker.rack}, empty if unset
 * @param state its membership state: active, maintenance, draining or decommissioned
 */
public record BrokerInfo(
    int nodeId, String host, int kafkaPort, int raftPort, String rack, BrokerState state) {

  /** A broker that is {@link BrokerState#ACTIVE} or, if not {@code active}, decommissioned. */
  public BrokerInfo(
      int nodeId, String host, int kafkaPort, int raftPort, String rack, boolean active) {
    this(
        nodeId,
        host,
        kafkaPort,
        raftPort,
        rack,
        active ? BrokerState.ACTIVE : BrokerState.DECOMMISSIONED);
  }

  public String raftAddress() {
    return host + ":" + raftPort;
  }

  /** Still a member (listed to clients): anything but decommissioned. */
  public boolean active() {
    return state != BrokerState.DECOMMISSIONED;
  }

  public BrokerInfo withState(BrokerState newState) {
    return new BrokerInfo(nodeId, host, kafkaPort, raftPort, rack, newState);
  }

  public BrokerInfo decommissioned() {
    return withState(BrokerState.DECOMMISSIONED);
  }
}
