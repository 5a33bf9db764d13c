package io.skiff.raft;

import java.util.Locale;
import org.apache.ratis.rpc.SupportedRpcType;

/**
 * The transport Raft nodes talk to each other over ({@code raft.rpc.type}): AppendEntries, votes,
 * group management and the admin clients' requests. Every broker of a cluster must use the same
 * one: a gRPC node and a Netty node cannot reach each other. Immutable.
 */
public enum RaftRpcType {
  /**
   * Ratis' gRPC transport: a leader streams AppendEntries to each follower, several requests in
   * flight, and a follower answers off the network threads.
   */
  GRPC(SupportedRpcType.GRPC),

  /**
   * Ratis' Netty transport ({@code ratis-netty}), the default: one AppendEntries in flight per
   * follower and group, each answered on a virtual thread of the follower's once written (Skiff's
   * Ratis patch 0015); fewer hand-offs per request than gRPC, so less CPU per byte replicated (see
   * docs/benchmarks.md, round K).
   */
  NETTY(SupportedRpcType.NETTY);

  /** The transport a broker uses unless {@link #KEY} says otherwise. */
  public static final RaftRpcType DEFAULT = NETTY;

  /** The property key, as the broker configuration spells it. */
  public static final String KEY = "raft.rpc.type";

  private final SupportedRpcType ratis;

  RaftRpcType(SupportedRpcType ratis) {
    this.ratis = ratis;
  }

  /** Ratis' name for this transport. */
  SupportedRpcType ratis() {
    return ratis;
  }

  /** The value as {@code raft.rpc.type} spells it. */
  public String configValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code grpc} or {@code netty} (any case). */
  public static RaftRpcType parse(String value) {
    for (RaftRpcType type : values()) {
      if (type.name().equalsIgnoreCase(value.strip())) {
        return type;
      }
    }
    throw new IllegalArgumentException(
        KEY + " must be grpc or netty (the same on every broker) but was '" + value + "'");
  }
}
