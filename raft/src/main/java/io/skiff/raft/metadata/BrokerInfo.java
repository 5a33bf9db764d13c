package io.skiff.raft.metadata;

/**
 * A registered broker.
 *
 * @param nodeId {@code node.id}
 * @param host address clients and peers reach it at
 * @param kafkaPort Kafka listener port
 * @param raftPort Raft port
 * @param rack {@code broker.rack}, empty if unset
 * @param active false once decommissioned: it gets no new replicas
 */
public record BrokerInfo(
    int nodeId, String host, int kafkaPort, int raftPort, String rack, boolean active) {
  public String raftAddress() {
    return host + ":" + raftPort;
  }

  public BrokerInfo decommissioned() {
    return new BrokerInfo(nodeId, host, kafkaPort, raftPort, rack, false);
  }
}
