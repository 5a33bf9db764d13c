package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.testing.ListenPorts;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.util.TimeDuration;

/**
 * Real Ratis servers over gRPC (or Netty) on loopback, one group of them, storage in a temporary
 * directory: the fixture of the patch tests that need a group with a leader and followers. The
 * servers can be closed and started again on their storage and ports ({@link #restart}). {@link
 * #close} closes the servers and deletes the directory. Not thread-safe: used by one test thread.
 */
final class LoopbackGroup implements AutoCloseable {
  private static final TimeDuration TEN_MINUTES = TimeDuration.valueOf(10, TimeUnit.MINUTES);

  private final SupportedRpcType rpcType;
  private final Path root;
  private final RaftGroup group;
  private final Consumer<RaftProperties> configure;
  private final List<RaftServer> servers = new ArrayList<>();

  private LoopbackGroup(
      SupportedRpcType rpcType, Path root, RaftGroup group, Consumer<RaftProperties> configure) {
    this.rpcType = rpcType;
    this.root = root;
    this.group = group;
    this.configure = configure;
  }

  /**
   * Starts {@code size} servers of one new group.
   *
   * @param configure applied to each server's properties after the common ones
   * @param machines a new state machine per server
   */
  static LoopbackGroup start(
      int size, Consumer<RaftProperties> configure, Supplier<? extends StateMachine> machines)
      throws IOException {
    return start(SupportedRpcType.GRPC, size, configure, machines);
  }

  /** {@link #start(int, Consumer, Supplier)} over the given transport (gRPC or Netty). */
  static LoopbackGroup start(
      SupportedRpcType rpcType,
      int size,
      Consumer<RaftProperties> configure,
      Supplier<? extends StateMachine> machines)
      throws IOException {
    final List<RaftPeer> peers = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      peers.add(
          RaftPeer.newBuilder()
              .setId(RaftPeerId.valueOf("s" + i))
              .setAddress("127.0.0.1:" + ListenPorts.free())
              .build());
    }
    final LoopbackGroup started =
        new LoopbackGroup(
            rpcType,
            Files.createTempDirectory("ratis-group"),
            RaftGroup.valueOf(RaftGroupId.valueOf(UUID.randomUUID()), peers),
            configure);
    try {
      for (RaftPeer peer : peers) {
        started.startServer(peer, machines.get(), RaftStorage.StartupOption.FORMAT);
      }
    } catch (IOException | RuntimeException e) {
      started.close();
      throw e;
    }
    return started;
  }

  /**
   * Starts the server of a peer ({@code s1}, {@code s2}, ...) again on its storage and port, after
   * {@link #closeServers}; {@link #closeServers} closes it.
   */
  RaftServer restart(RaftPeerId peer, StateMachine machine) throws IOException {
    return startServer(group.getPeer(peer), machine, RaftStorage.StartupOption.RECOVER);
  }

  private RaftServer startServer(
      RaftPeer peer, StateMachine machine, RaftStorage.StartupOption option) throws IOException {
    final RaftProperties p = properties(rpcType);
    final int port = Integer.parseInt(peer.getAddress().split(":")[1]);
    GrpcConfigKeys.Server.setPort(p, port);
    NettyConfigKeys.Server.setPort(p, port);
    RaftServerConfigKeys.setStorageDir(p, List.of(root.resolve(peer.getId().toString()).toFile()));
    configure.accept(p);
    final RaftServer server =
        RaftServer.newBuilder()
            .setServerId(peer.getId())
            .setGroup(group)
            .setProperties(p)
            .setStateMachine(machine)
            .setOption(option)
            .build();
    servers.add(server);
    server.start();
    return server;
  }

  /**
   * Client and server properties in common: the transport on loopback, 0.5–1 s election timeouts.
   */
  static RaftProperties properties(SupportedRpcType rpcType) {
    final RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, rpcType);
    GrpcConfigKeys.Server.setHost(p, "127.0.0.1");
    NettyConfigKeys.Server.setHost(p, "127.0.0.1");
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(500, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS));
    return p;
  }

  RaftGroup group() {
    return group;
  }

  /** This group's division on {@code server}. */
  RaftServer.Division division(RaftServer server) throws IOException {
    return server.getDivision(group.getGroupId());
  }

  /**
   * Server settings for tests that start every election themselves: virtual threads and election
   * timeouts of ten minutes or more, so that no timer elects anyone during a test.
   */
  static void electionsOnRequestOnly(RaftProperties p) {
    RaftServerConfigKeys.ThreadPool.setVirtual(p, true);
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TEN_MINUTES);
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TEN_MINUTES.multiply(2));
  }

  /** The servers running now, in the order they were started. */
  List<RaftServer> servers() {
    return List.copyOf(servers);
  }

  /** The temporary directory the servers' storage is in. */
  Path root() {
    return root;
  }

  /** A client of the group; the caller closes it. */
  RaftClient newClient() {
    return RaftClient.newBuilder().setRaftGroup(group).setProperties(properties(rpcType)).build();
  }

  /**
   * Writes {@code total} entries ({@code "entry 0"}, {@code "entry 1"}, ...) through a new client
   * and asserts that each succeeds within 30 s: the first {@code oneByOne} one at a time, so that
   * the servers' workers are idle, waiting, when each arrives; the rest with up to {@code inFlight}
   * at a time, so that they arrive while the workers are busy. A reply comes once the leader has
   * applied the entry.
   */
  void writeAll(int oneByOne, int total, int inFlight) throws Exception {
    try (RaftClient client = newClient()) {
      for (int i = 0; i < oneByOne; i++) {
        assertSucceeded(client.async().send(Message.valueOf("entry " + i)));
      }
      final Deque<CompletableFuture<RaftClientReply>> sent = new ArrayDeque<>();
      for (int i = oneByOne; i < total; i++) {
        if (sent.size() == inFlight) {
          assertSucceeded(sent.poll());
        }
        sent.add(client.async().send(Message.valueOf("entry " + i)));
      }
      while (!sent.isEmpty()) {
        assertSucceeded(sent.poll());
      }
    }
  }

  private static void assertSucceeded(CompletableFuture<RaftClientReply> reply) throws Exception {
    final RaftClientReply r = reply.get(30, TimeUnit.SECONDS);
    assertThat(r.isSuccess()).as("reply %s", r).isTrue();
  }

  /** Waits up to 20 s until {@code division} leads and has applied its first entry of the term. */
  static void awaitLeaderReady(RaftServer.Division division) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!division.getInfo().isLeaderReady()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(division.getMemberId() + " did not lead within 20 s");
      }
      Thread.sleep(20);
    }
  }

  /**
   * Asserts that this JVM's threads spend under 0.75 CPU seconds in 3 s of wall time while nothing
   * is written: near zero when the groups' daemons wait, about a core per daemon when one polls
   * without waiting (an idle wait of zero must mean "no timeout", not a poll that returns at once).
   * The threads' CPU, not the process's: the JIT may still be compiling what the writes just ran
   * (0.88 s in one CI run under load), and neither it nor the GC says whether a daemon polls. The
   * daemons run on virtual threads, whose CPU their carriers' count holds.
   */
  static void assertIdleDaemonsPark() throws InterruptedException {
    final long before = threadCpuNanos();
    Thread.sleep(TimeUnit.SECONDS.toMillis(3));
    assertThat((threadCpuNanos() - before) / 1e9)
        .as("CPU seconds of the idle servers' threads in 3 s")
        .isLessThan(0.75);
  }

  /** CPU time of the live platform threads (virtual threads' carriers included), in ns. */
  private static long threadCpuNanos() {
    final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long id : threads.getAllThreadIds()) {
      sum += Math.max(0, threads.getThreadCpuTime(id));
    }
    return sum;
  }

  /** Closes every server; {@link #close} then only deletes the directory. */
  void closeServers() throws IOException {
    for (RaftServer server : servers) {
      server.close();
    }
    servers.clear();
  }

  @Override
  public void close() throws IOException {
    closeServers();
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
