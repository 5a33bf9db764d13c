package io.skiff.raft;

import io.skiff.log.LogConfig;
import io.skiff.log.NativeMemory;
import io.skiff.raft.catchup.ReplicaFetchConfig;
import io.skiff.raft.leadership.PeerLiveness;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of one broker's Raft node. Validated on construction.
 *
 * @param nodeId {@code node.id}: the broker id, unique in the cluster
 * @param host address peers reach this node's Raft port at
 * @param port Raft port (9093 by default)
 * @param dataDir broker data directory: Raft logs under {@code raft/}, partition logs under {@code
 *     log/<topic>-<partition>/}
 * @param logConfig defaults for partition logs
 * @param maxMappedIndexBytes {@code max.mapped.index.bytes}: cap on mapped index files
 * @param fsync fsync partition logs when Ratis flushes its log (off only for benchmarks of the
 *     replication layer's own cost)
 * @param snapshotEntries take a partition snapshot (and purge the Raft log behind it) every this
 *     many entries
 * @param electionTimeoutMinMs Raft election timeout, lower bound
 * @param electionTimeoutMaxMs Raft election timeout, upper bound
 * @param raftSegmentBytes size of each Raft log segment file, per group
 * @param replicaFetch replica fetcher buffer bounds
 * @param indexHints native hints for mapped indexes ({@code index.native.hints}, {@code
 *     index.mlock.max.bytes}); this node's counters of locked bytes and calls
 * @param raftEntryMaxBytes {@code raft.entry.max.bytes}: the most batch bytes one Raft entry (one
 *     produce request's batches for a partition) may carry on this node; 0 means {@code
 *     message.max.bytes}. It is fixed while the node runs (Ratis sizes each group's direct write
 *     buffer by it), so a topic's {@code max.message.bytes} above it is honoured only up to it: see
 *     {@link #entryMaxBatchBytes()}
 * @param rpcType {@code raft.rpc.type}: the transport between Raft nodes (Netty by default); the
 *     same on every node of a cluster
 * @param livenessIntervalMs {@code raft.liveness.interval.ms}: how often this node probes every
 *     other broker's Raft server ({@link PeerLiveness})
 * @param livenessTimeoutMs {@code raft.liveness.timeout.ms}: a peer no probe reached for this long
 *     is unreachable, and this node stands for election in the groups it led ({@link
 *     LeaderTakeover}); more than twice the interval
 * @param syncfsIntervalMinMicros {@code log.syncfs.interval.min.us}: the least time from the start
 *     of one syncfs round of the data directory's file system to the next (group commit: flushes
 *     arriving meanwhile share the later round); 0 runs a round as soon as a flush asks
 * @param appendEntriesInFlightMax {@code raft.append.entries.in.flight.max}: how many AppendEntries
 *     a leader keeps in flight to each follower of each group (Netty transport); 1, the default,
 *     waits for each reply before sending the entries that arrived meanwhile
 */
public record RaftNodeConfig(
    int nodeId,
    String host,
    int port,
    Path dataDir,
    LogConfig logConfig,
    long maxMappedIndexBytes,
    boolean fsync,
    long snapshotEntries,
    int electionTimeoutMinMs,
    int electionTimeoutMaxMs,
    int raftSegmentBytes,
    ReplicaFetchConfig replicaFetch,
    NativeMemory indexHints,
    int raftEntryMaxBytes,
    RaftRpcType rpcType,
    int livenessIntervalMs,
    int livenessTimeoutMs,
    int syncfsIntervalMinMicros,
    int appendEntriesInFlightMax) {

  /** Key of {@link #livenessIntervalMs}. */
  public static final String LIVENESS_INTERVAL = "raft.liveness.interval.ms";

  /** Key of {@link #livenessTimeoutMs}. */
  public static final String LIVENESS_TIMEOUT = "raft.liveness.timeout.ms";

  /** Default of {@link #livenessIntervalMs}. */
  public static final int DEFAULT_LIVENESS_INTERVAL_MS = 500;

  /** Default of {@link #livenessTimeoutMs}. */
  public static final int DEFAULT_LIVENESS_TIMEOUT_MS = 4_000;

  /** Key of {@link #syncfsIntervalMinMicros}. */
  public static final String SYNCFS_INTERVAL_MIN = "log.syncfs.interval.min.us";

  /**
   * Default of {@link #syncfsIntervalMinMicros}: at full produce rate it took two thirds of the
   * rounds off (2.6-3 flushes per round instead of 1.3) and added at most this much to a flush that
   * comes right after a round began.
   */
  public static final int DEFAULT_SYNCFS_INTERVAL_MIN_US = 2_000;

  /** Upper bound of {@link #syncfsIntervalMinMicros}: one second. */
  public static final int MAX_SYNCFS_INTERVAL_MIN_US = 1_000_000;

  /** Key of {@link #appendEntriesInFlightMax}. */
  public static final String APPEND_ENTRIES_IN_FLIGHT_MAX = "raft.append.entries.in.flight.max";

  /**
   * Default of {@link #appendEntriesInFlightMax}: one. Eight cost up to 28 % more broker CPU per MB
   * at RF=3 at fixed rates on a 2-core machine (more, smaller requests) and shortened no latency.
   */
  public static final int DEFAULT_APPEND_ENTRIES_IN_FLIGHT_MAX = 1;

  /** Upper bound of {@link #appendEntriesInFlightMax}. */
  public static final int MAX_APPEND_ENTRIES_IN_FLIGHT = 1024;

  public RaftNodeConfig {
    if (nodeId < 0) {
      throw new IllegalArgumentException("node.id must be >= 0 but was " + nodeId);
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("raft port must be 0..65535 but was " + port);
    }
    if (electionTimeoutMinMs <= 0 || electionTimeoutMaxMs <= electionTimeoutMinMs) {
      throw new IllegalArgumentException(
          "need 0 < election timeout min < max, got "
              + electionTimeoutMinMs
              + " and "
              + electionTimeoutMaxMs);
    }
    if (snapshotEntries < 1) {
      throw new IllegalArgumentException("snapshot entries must be >= 1");
    }
    if (raftEntryMaxBytes < 0) {
      throw new IllegalArgumentException(
          "raft.entry.max.bytes must be >= 0 (0: message.max.bytes) but was " + raftEntryMaxBytes);
    }
    Objects.requireNonNull(rpcType, RaftRpcType.KEY);
    if (livenessIntervalMs <= 0 || livenessTimeoutMs <= 2L * livenessIntervalMs) {
      throw new IllegalArgumentException(
          LIVENESS_INTERVAL
              + " and "
              + LIVENESS_TIMEOUT
              + " must satisfy 0 < interval and 2 * interval < timeout (milliseconds), not "
              + livenessIntervalMs
              + " and "
              + livenessTimeoutMs);
    }
    if (syncfsIntervalMinMicros < 0 || syncfsIntervalMinMicros > MAX_SYNCFS_INTERVAL_MIN_US) {
      throw new IllegalArgumentException(
          SYNCFS_INTERVAL_MIN
              + " must be 0.."
              + MAX_SYNCFS_INTERVAL_MIN_US
              + " (microseconds), not "
              + syncfsIntervalMinMicros);
    }
    if (appendEntriesInFlightMax < 1 || appendEntriesInFlightMax > MAX_APPEND_ENTRIES_IN_FLIGHT) {
      throw new IllegalArgumentException(
          APPEND_ENTRIES_IN_FLIGHT_MAX
              + " must be 1.."
              + MAX_APPEND_ENTRIES_IN_FLIGHT
              + ", not "
              + appendEntriesInFlightMax);
    }
  }

  /**
   * The most batch bytes one Raft entry carries here: {@code raft.entry.max.bytes}, and never less
   * than the broker's {@code message.max.bytes}. Every replica must use the same value; a leader
   * refuses larger requests before it assigns them offsets.
   */
  public int entryMaxBatchBytes() {
    return Math.max(raftEntryMaxBytes, logConfig.maxBatchBytes());
  }

  /** Defaults for a node: 9093, fsync on, snapshots every 10 000 entries, 1-2 s elections, gRPC. */
  public static RaftNodeConfig defaults(int nodeId, String host, int port, Path dataDir) {
    return new RaftNodeConfig(
        nodeId,
        host,
        port,
        dataDir,
        LogConfig.defaults(),
        256L << 20,
        true,
        10_000,
        1_000,
        2_000,
        4 << 20,
        ReplicaFetchConfig.defaults(),
        NativeMemory.defaults(),
        0,
        RaftRpcType.DEFAULT,
        DEFAULT_LIVENESS_INTERVAL_MS,
        DEFAULT_LIVENESS_TIMEOUT_MS,
        DEFAULT_SYNCFS_INTERVAL_MIN_US,
        DEFAULT_APPEND_ENTRIES_IN_FLIGHT_MAX);
  }

  public RaftNodeConfig withLogConfig(LogConfig logConfig) {
    return toBuilder().logConfig(logConfig).build();
  }

  public RaftNodeConfig withSnapshotEntries(long entries) {
    return toBuilder().snapshotEntries(entries).build();
  }

  public RaftNodeConfig withElectionTimeout(int minMs, int maxMs) {
    return toBuilder().electionTimeoutMs(minMs, maxMs).build();
  }

  public RaftNodeConfig withReplicaFetch(ReplicaFetchConfig replicaFetch) {
    return toBuilder().replicaFetch(replicaFetch).build();
  }

  public RaftNodeConfig withFsync(boolean fsync) {
    return toBuilder().fsync(fsync).build();
  }

  public RaftNodeConfig withRaftSegmentBytes(int bytes) {
    return toBuilder().raftSegmentBytes(bytes).build();
  }

  public RaftNodeConfig withRaftEntryMaxBytes(int bytes) {
    return toBuilder().raftEntryMaxBytes(bytes).build();
  }

  public RaftNodeConfig withRpcType(RaftRpcType type) {
    return toBuilder().rpcType(type).build();
  }

  public RaftNodeConfig withLiveness(int intervalMs, int timeoutMs) {
    return toBuilder().livenessMs(intervalMs, timeoutMs).build();
  }

  /** A builder starting from this config's values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Mutable copy of a config, for the {@code with*} variations. */
  public static final class Builder {
    private final int nodeId;
    private final String host;
    private final int port;
    private final Path dataDir;
    private LogConfig logConfig;
    private long maxMappedIndexBytes;
    private boolean fsync;
    private long snapshotEntries;
    private int electionTimeoutMinMs;
    private int electionTimeoutMaxMs;
    private int raftSegmentBytes;
    private ReplicaFetchConfig replicaFetch;
    private NativeMemory indexHints;
    private int raftEntryMaxBytes;
    private RaftRpcType rpcType;
    private int livenessIntervalMs;
    private int livenessTimeoutMs;
    private int syncfsIntervalMinMicros;
    private int appendEntriesInFlightMax;

    private Builder(RaftNodeConfig c) {
      nodeId = c.nodeId;
      host = c.host;
      port = c.port;
      dataDir = c.dataDir;
      logConfig = c.logConfig;
      maxMappedIndexBytes = c.maxMappedIndexBytes;
      fsync = c.fsync;
      snapshotEntries = c.snapshotEntries;
      electionTimeoutMinMs = c.electionTimeoutMinMs;
      electionTimeoutMaxMs = c.electionTimeoutMaxMs;
      raftSegmentBytes = c.raftSegmentBytes;
      replicaFetch = c.replicaFetch;
      indexHints = c.indexHints;
      raftEntryMaxBytes = c.raftEntryMaxBytes;
      rpcType = c.rpcType;
      livenessIntervalMs = c.livenessIntervalMs;
      livenessTimeoutMs = c.livenessTimeoutMs;
      syncfsIntervalMinMicros = c.syncfsIntervalMinMicros;
      appendEntriesInFlightMax = c.appendEntriesInFlightMax;
    }

    public Builder logConfig(LogConfig v) {
      logConfig = v;
      return this;
    }

    public Builder maxMappedIndexBytes(long v) {
      maxMappedIndexBytes = v;
      return this;
    }

    public Builder fsync(boolean v) {
      fsync = v;
      return this;
    }

    public Builder snapshotEntries(long v) {
      snapshotEntries = v;
      return this;
    }

    public Builder electionTimeoutMs(int min, int max) {
      electionTimeoutMinMs = min;
      electionTimeoutMaxMs = max;
      return this;
    }

    public Builder raftSegmentBytes(int v) {
      raftSegmentBytes = v;
      return this;
    }

    public Builder replicaFetch(ReplicaFetchConfig v) {
      replicaFetch = v;
      return this;
    }

    public Builder raftEntryMaxBytes(int v) {
      raftEntryMaxBytes = v;
      return this;
    }

    public Builder rpcType(RaftRpcType v) {
      rpcType = v;
      return this;
    }

    public Builder livenessMs(int interval, int timeout) {
      livenessIntervalMs = interval;
      livenessTimeoutMs = timeout;
      return this;
    }

    public Builder syncfsIntervalMinMicros(int v) {
      syncfsIntervalMinMicros = v;
      return this;
    }

    public Builder appendEntriesInFlightMax(int v) {
      appendEntriesInFlightMax = v;
      return this;
    }

    public RaftNodeConfig build() {
      return new RaftNodeConfig(
          nodeId,
          host,
          port,
          dataDir,
          logConfig,
          maxMappedIndexBytes,
          fsync,
          snapshotEntries,
          electionTimeoutMinMs,
          electionTimeoutMaxMs,
          raftSegmentBytes,
          replicaFetch,
          indexHints,
          raftEntryMaxBytes,
          rpcType,
          livenessIntervalMs,
          livenessTimeoutMs,
          syncfsIntervalMinMicros,
          appendEntriesInFlightMax);
    }
  }

  /** {@code host:port} peers dial. */
  public String address() {
    return host + ":" + port;
  }
}
