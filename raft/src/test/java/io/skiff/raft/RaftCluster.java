package io.skiff.raft;

import io.skiff.log.FetchSlice;
import io.skiff.log.LogConfig;
import io.skiff.raft.catchup.ReplicaFetchConfig;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.AppendResult;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import io.skiff.raft.producer.ProducerStateException;
import io.skiff.testing.ListenPorts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;

/** Real Raft nodes on loopback ports with their data in a temp directory, for tests. */
final class RaftCluster implements AutoCloseable {
  private final Path root;
  private final UnaryOperator<RaftNodeConfig> tuning;
  private final Map<Integer, RaftNodeConfig> configs = new TreeMap<>();
  private final Map<Integer, RaftNode> nodes = new TreeMap<>();

  RaftCluster(Path root, int size, UnaryOperator<RaftNodeConfig> tuning) throws IOException {
    this.root = root;
    this.tuning = tuning;
    for (int id = 1; id <= size; id++) {
      addNode(id);
    }
  }

  /**
   * Three nodes whose followers catch up by fetching: a snapshot every {@code snapshotEntries}
   * entries moves the Raft log start on, Raft segments are 16 KiB, and the replica fetcher's
   * buffers are small enough that a catch-up takes many fetches.
   */
  static RaftCluster catchingUpByFetch(Path root, int snapshotEntries) throws IOException {
    final ReplicaFetchConfig smallBuffers =
        new ReplicaFetchConfig(16 * 1024, 64 * 1024, 32 * 1024, 1);
    return new RaftCluster(
        root,
        3,
        c ->
            c.withSnapshotEntries(snapshotEntries)
                .withRaftSegmentBytes(16 * 1024)
                .withReplicaFetch(smallBuffers));
  }

  /**
   * Three nodes that keep many entries in the Raft log (a snapshot only every 400 entries), with
   * the brokers' election timeouts (1-2 s), 16 KiB Raft segments and {@code logConfig} for the
   * partition logs: a follower stopped for a while catches up from the Raft log.
   */
  static RaftCluster keepingTheRaftLog(Path root, LogConfig logConfig) throws IOException {
    return new RaftCluster(
        root,
        3,
        c ->
            c.withSnapshotEntries(400)
                .withElectionTimeout(1_000, 2_000)
                .withRaftSegmentBytes(16 * 1024)
                .withLogConfig(logConfig));
  }

  /**
   * Test timings and segment sizes, over the transport {@code -Dskiff.test.raft.rpc.type} names
   * (gRPC unless set), so that a suite can be run again over Netty unchanged.
   */
  static RaftNodeConfig testDefaults(RaftNodeConfig c) {
    return c.withElectionTimeout(300, 600)
        .withLogConfig(LogConfig.builder().segmentBytes(256 * 1024).build())
        .withRpcType(testRpcType());
  }

  /** The transport {@code -Dskiff.test.raft.rpc.type} asks the tests' nodes to use. */
  static RaftRpcType testRpcType() {
    return RaftRpcType.parse(
        System.getProperty("skiff.test.raft.rpc.type", RaftRpcType.DEFAULT.configValue()));
  }

  /** Starts a new node {@code id} (for replica moves). */
  RaftNode addNode(int id) throws IOException {
    final RaftNodeConfig config =
        tuning.apply(
            testDefaults(
                RaftNodeConfig.defaults(
                    id, "127.0.0.1", ListenPorts.free(), root.resolve("node-" + id))));
    configs.put(id, config);
    return start(id);
  }

  RaftNode start(int id) throws IOException {
    final RaftNode node = new RaftNode(configs.get(id));
    node.start();
    nodes.put(id, node);
    return node;
  }

  void stop(int id) throws IOException {
    final RaftNode node = nodes.remove(id);
    if (node != null) {
      node.close();
    }
  }

  RaftNode node(int id) {
    return nodes.get(id);
  }

  List<Integer> runningIds() {
    return new ArrayList<>(nodes.keySet());
  }

  List<org.apache.ratis.protocol.RaftPeer> peers(int... ids) {
    final List<org.apache.ratis.protocol.RaftPeer> peers = new ArrayList<>();
    for (int id : ids) {
      peers.add(RaftNode.peer(id, configs.get(id).address()));
    }
    return peers;
  }

  /** Ratis' metric registries of a node's groups for one component ("server", "log_worker"...). */
  List<RatisMetricRegistry> ratisRegistries(int id, String component) {
    final String member = node(id).self().getId() + "@";
    final List<RatisMetricRegistry> found = new ArrayList<>();
    for (RatisMetricRegistry registry : MetricRegistries.global().getMetricRegistries()) {
      final MetricRegistryInfo info = registry.getMetricRegistryInfo();
      if (info.getPrefix().startsWith(member) && info.getMetricsComponentName().equals(component)) {
        found.add(registry);
      }
    }
    return found;
  }

  static PartitionId newPartition(String topic, int partition) {
    return new PartitionId(topic, UUID.nameUUIDFromBytes(topic.getBytes()), partition);
  }

  /** Creates the partition on the given nodes. */
  void createPartition(PartitionId id, int... ids) throws IOException {
    for (int nodeId : ids) {
      nodes.get(nodeId).createPartition(id, peers(ids));
    }
  }

  /** Waits for a ready leader among running nodes. */
  ReplicatedPartition leader(PartitionId id, Duration timeout) throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (RaftNode node : nodes.values()) {
        final var p = node.partition(id);
        if (p.isPresent() && p.get().isLeaderReady()) {
          return p.get();
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no leader for " + id + " within " + timeout);
  }

  ReplicatedPartition replica(int nodeId, PartitionId id) {
    return nodes.get(nodeId).partition(id).orElseThrow();
  }

  /** Waits until every running replica's high watermark reaches {@code offset}. */
  void awaitHighWatermark(PartitionId id, long offset, Duration timeout)
      throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    for (RaftNode node : nodes.values()) {
      final ReplicatedPartition p = node.partition(id).orElseThrow();
      while (p.highWatermark() < offset) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(
              "node "
                  + node.config().nodeId()
                  + " stuck at high watermark "
                  + p.highWatermark()
                  + " < "
                  + offset);
        }
        Thread.sleep(20);
      }
    }
  }

  /** The bytes of a replica's partition log in {@code [logStart, upTo)}. */
  static byte[] logBytes(ReplicatedPartition p, long upTo) throws IOException {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    long offset = p.logStartOffset();
    while (offset < upTo) {
      final FetchSlice slice = p.log().read(offset, 1 << 20, upTo);
      if (slice.isEmpty()) {
        break;
      }
      final ByteBuffer bytes = ByteBuffer.allocate(slice.length());
      while (bytes.hasRemaining()) {
        slice.channel().read(bytes, slice.position() + bytes.position());
      }
      out.write(bytes.array(), 0, slice.length());
      offset = slice.nextOffset();
    }
    return out.toByteArray();
  }

  @Override
  public void close() throws IOException {
    for (int id : new ArrayList<>(nodes.keySet())) {
      stop(id);
    }
  }

  /**
   * Appends through whichever node leads (waiting up to {@code leaderWait} for one), retrying while
   * leadership moves, for up to 60 s; a producer-state refusal is not retried.
   */
  AppendResult appendThroughLeader(Duration leaderWait, PartitionId id, ByteBuffer batch)
      throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        return leader(id, leaderWait).append(batch.duplicate(), Acks.ALL).get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof ProducerStateException || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50); // leader moved: retry where it is now
      }
    }
  }

  /** Deletes a directory tree, children first. */
  static void deleteRecursively(Path root) throws IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
