package io.skiff.raft;

import java.io.File;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * Turns a {@link RaftNodeConfig} into Ratis properties. Every Ratis default that scales with the
 * number of groups is set here, with the reason, because one broker hosts thousands of groups.
 */
public final class RatisProperties {
  private RatisProperties() {}

  static RaftProperties server(RaftNodeConfig config) {
    final RaftProperties p = new RaftProperties();
    transport(p, config);
    RaftServerConfigKeys.setStorageDir(p, List.of(new File(config.dataDir().toFile(), "raft")));
    // Skiff's Ratis patch (ratis-patched/): every group's daemons (state-machine updater, log
    // worker, cache eviction, follower/leader state, elections, log appenders) and its server and
    // client executors run on virtual threads, so platform threads do not grow with the number of
    // groups a broker hosts (stock Ratis: ~5.4 per group, see docs/raft-scaling.md).
    RaftServerConfigKeys.ThreadPool.setVirtual(p, true);
    // Stock Ratis wakes every group's state-machine updater every 100 ms to look for commits it is
    // signalled about anyway, and its log worker every second, only to notice a close: most of an
    // idle broker's CPU at 1000 groups. Skiff's Ratis patches lose no signal and wake the worker on
    // close, so both wait without a timeout (patch 0013): on a virtual thread a timed wait also
    // wakes the carrier pool's timer thread, to arm and to cancel it, once per entry under load.
    // Patches 0024 and 0025 take the other per-entry timed waits (replies, cached executors, the
    // appenders' and the leader's waits) off that timer with no setting.
    RaftServerConfigKeys.StateMachineApply.setIdleWait(p, APPLY_IDLE_WAIT);
    RaftServerConfigKeys.Log.setWorkerIdleWait(p, LOG_WORKER_IDLE_WAIT);

    // The largest entry is one produce request's batches for a partition (raft.entry.max.bytes, at
    // least message.max.bytes). A topic's max.message.bytes cannot raise it: the leader refuses
    // larger requests before it assigns offsets (PartitionStateMachine), never Ratis after.
    final int entryLimit = entryMaxBytes(config);
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(entryLimit));
    // Stock Ratis sizes each group's direct write buffer by that largest entry *with* its data,
    // although only the 72-byte header reaches its log (1 MiB per group, 1 GiB at 1000 groups).
    // Skiff's Ratis patch lets the buffer be smaller and writes a larger entry (a large metadata
    // entry; partition entries never are) directly.
    RaftServerConfigKeys.Log.setWriteBufferSmallerThanEntryEnabled(p, true);
    RaftServerConfigKeys.Log.setWriteBufferSize(
        p, SizeInBytes.valueOf(Math.min(entryLimit + 8, WRITE_BUFFER_BYTES)));
    // One AppendEntries carries up to the appender's buffer (one entry at least). Either transport
    // refuses a longer message; the Netty server closes the connection of a longer frame as soon as
    // its length arrives (patch 0023), so no peer makes it buffer more.
    final SizeInBytes messageMax =
        SizeInBytes.valueOf(Math.max(MESSAGE_MIN_BYTES, entryLimit + (1 << 20)));
    GrpcConfigKeys.setMessageSizeMax(p, messageMax);
    NettyConfigKeys.Server.setMessageSizeMax(p, messageMax);
    // Small segments keep disk per group low; entries are tiny.
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(config.raftSegmentBytes()));
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(64 << 10));
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
    // "The state machine caches the data": Ratis then keeps entries in its log cache *without* the
    // batch bytes (false would hold every batch on the heap and count it toward segment size). The
    // leader reads them back from the partition log (page cache) when a follower needs them.
    RaftServerConfigKeys.Log.StateMachineData.setCachingEnabled(p, true);
    // Composing appends asynchronously runs each step on CompletableFuture's default executor,
    // which on machines with two or fewer cores starts a new thread per task, and starts each
    // append only after the previous one's flush (AppendEntries in flight would wait in line).
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    RaftServerConfigKeys.Log.StateMachineData.setSync(p, true);
    // A follower behind the purged log catches up through the replica fetcher, not by Ratis
    // shipping snapshot files.
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, false);
    // Skiff's Ratis patch 0028: above 1, the Netty transport's appender sends the entries that
    // arrive while AppendEntries are in flight without waiting for their replies (a follower's
    // flush
    // and the round trip); the follower appends a group's requests in the order they were sent.
    RaftServerConfigKeys.Log.Appender.setOutstandingMax(p, config.appendEntriesInFlightMax());

    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotEntries());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(
        p, (int) Math.min(Integer.MAX_VALUE, config.snapshotEntries()));

    RaftServerConfigKeys.Rpc.setTimeoutMin(
        p, TimeDuration.valueOf(config.electionTimeoutMinMs(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(
        p, TimeDuration.valueOf(config.electionTimeoutMaxMs(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(10, TimeUnit.SECONDS));
    return p;
  }

  /**
   * The transport ({@code raft.rpc.type}) and where this node listens on it. The Netty transport
   * runs one event loop group for its server and one per client proxy map, each with Netty's
   * default of twice the cores; gRPC shares Netty event loops of twice the cores and runs its
   * calls' callbacks on virtual threads: threads stay O(cores) either way.
   */
  private static void transport(RaftProperties p, RaftNodeConfig config) {
    RaftConfigKeys.Rpc.setType(p, config.rpcType().ratis());
    switch (config.rpcType()) {
      case GRPC -> {
        GrpcConfigKeys.Server.setHost(p, config.host());
        GrpcConfigKeys.Server.setPort(p, config.port());
        // Skiff's Ratis patch: the callbacks of the calls this node serves and makes to its peers
        // run on virtual threads. gRPC's shared cached executor would start a platform thread for
        // every callback that finds its threads busy: ~100 per broker at 1000 partitions, growing
        // with the heartbeats of all groups (docs/raft-scaling.md).
        GrpcConfigKeys.Server.setExecutorVirtual(p, true);
      }
      case NETTY -> {
        NettyConfigKeys.Server.setHost(p, config.host());
        NettyConfigKeys.Server.setPort(p, config.port());
        // Skiff's Ratis patch: each request is handled on a virtual thread of its own, not on the
        // event loop that read it, which serialised every group's requests between two brokers
        // (one follower's disk write delayed the heartbeats of all its other groups).
        NettyConfigKeys.Server.setHandlerVirtual(p, true);
      }
    }
  }

  /** Each group's Raft log write buffer (direct memory): thousands of 72-byte headers. */
  static final int WRITE_BUFFER_BYTES = 64 << 10;

  /** How long a group's state-machine updater waits for a signal: zero, without a timeout. */
  static final TimeDuration APPLY_IDLE_WAIT = TimeDuration.ZERO;

  /** How long a group's log worker waits for a task: zero, without a timeout (until a close). */
  static final TimeDuration LOG_WORKER_IDLE_WAIT = TimeDuration.ZERO;

  /** The transports' message cap is never set below Ratis' gRPC default. */
  private static final int MESSAGE_MIN_BYTES = 32 << 20;

  /** Room in a Raft entry for its header, client ids and protobuf framing around the batches. */
  static final int ENTRY_OVERHEAD_BYTES = 4096;

  /** The largest Raft entry: one request's batches for a partition plus header and framing. */
  static int entryMaxBytes(RaftNodeConfig config) {
    return config.entryMaxBatchBytes() + ENTRY_OVERHEAD_BYTES;
  }

  /**
   * Properties for clients a node uses to reach other nodes (replica fetcher queries, membership
   * changes, metadata writes) over {@code rpcType}.
   */
  public static RaftProperties client(RaftRpcType rpcType) {
    return client(rpcType, 10_000);
  }

  /** As {@link #client(RaftRpcType)}, with requests timing out after {@code requestTimeoutMs}. */
  public static RaftProperties client(RaftRpcType rpcType, long requestTimeoutMs) {
    final RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, rpcType.ratis());
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        p, TimeDuration.valueOf(requestTimeoutMs, TimeUnit.MILLISECONDS));
    return p;
  }
}
