package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.raft.RaftRpcType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code raft.rpc.type}: the transport between brokers' Raft nodes, from file or environment. */
class BrokerConfigRaftRpcTypeTest {

  @Test
  void raftNodesTalkNettyUnlessConfiguredOtherwise() {
    final BrokerConfig config = BrokerConfig.fromMap(Map.of("node.id", "1"));

    assertThat(config.raft().rpcType()).isEqualTo(RaftRpcType.NETTY);
    assertThat(config.effectiveProperties()).containsEntry("raft.rpc.type", "netty");
  }

  @Test
  void anEnvironmentVariableSwitchesTheTransportToGrpc() {
    final BrokerConfig config =
        BrokerConfig.fromMap(
            BrokerConfig.withEnvironment(
                Map.of("node.id", "1", "raft.rpc.type", "netty"),
                Map.of("SKIFF_RAFT_RPC_TYPE", "GRPC")));

    assertThat(config.raft().rpcType()).isEqualTo(RaftRpcType.GRPC);
    assertThat(config.effectiveProperties()).containsEntry("raft.rpc.type", "grpc");
  }

  @Test
  void anUnknownTransportIsRefusedNamingTheKeyAndTheChoices() {
    assertThatThrownBy(() -> BrokerConfig.fromMap(Map.of("node.id", "1", "raft.rpc.type", "quic")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("raft.rpc.type")
        .hasMessageContaining("grpc or netty")
        .hasMessageContaining("quic");
  }
}
