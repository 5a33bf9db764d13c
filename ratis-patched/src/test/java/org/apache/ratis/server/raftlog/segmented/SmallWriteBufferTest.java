package org.apache.ratis.server.raftlog.segmented;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
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
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Checks Skiff's Ratis patch raft.server.log.write.buffer.smaller-than-entry.enabled: a division's
 * log write buffer may be smaller than the largest entry; entries larger than the buffer are
 * written directly, between small buffered ones, and read back intact after a restart. One real
 * server over gRPC whose state machine keeps its data in the log, so entries are as large as the
 * client's messages.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SmallWriteBufferTest {
  private static final int BUFFER_BYTES = 4 << 10;

  private Path root;
  private RaftServer server;

  @BeforeEach
  void createRoot() throws IOException {
    root = Files.createTempDirectory("ratis-write-buffer");
  }

  @AfterEach
  void closeServer() throws IOException {
    if (server != null) {
      server.close();
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void entriesLargerThanTheWriteBufferAreWrittenAndReadBack() throws Exception {
    final RaftGroup group = group();
    final RecordingStateMachine first = new RecordingStateMachine();
    server = start(group, first, true, RaftStorage.StartupOption.FORMAT);
    final List<ByteString> sent =
        List.of(bytes(100, 'a'), bytes(100 << 10, 'b'), bytes(200, 'c'), bytes(50 << 10, 'd'));
    try (RaftClient client =
        RaftClient.newBuilder().setRaftGroup(group).setProperties(properties(true)).build()) {
      for (ByteString message : sent) {
        final RaftClientReply reply = client.io().send(Message.valueOf(message));
        assertThat(reply.isSuccess()).as("reply %s", reply).isTrue();
      }
    }
    assertThat(first.applied).containsExactlyElementsOf(sent);
    server.close();

    final RecordingStateMachine restarted = new RecordingStateMachine();
    server = start(group, restarted, true, RaftStorage.StartupOption.RECOVER);
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (restarted.applied.size() < sent.size() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(restarted.applied)
        .as("entries replayed from the log")
        .startsWith(sent.toArray(ByteString[]::new));
  }

  @Test
  void aWriteBufferSmallerThanTheEntryLimitIsRefusedByDefault() {
    assertThatThrownBy(
            () ->
                start(
                    group(), new RecordingStateMachine(), false, RaftStorage.StartupOption.FORMAT))
        .hasStackTraceContaining(RaftServerConfigKeys.Log.WRITE_BUFFER_SIZE_KEY);
  }

  private RaftGroup group() throws IOException {
    final RaftPeer peer =
        RaftPeer.newBuilder()
            .setId(RaftPeerId.valueOf("s1"))
            .setAddress("127.0.0.1:" + freePort())
            .build();
    return RaftGroup.valueOf(RaftGroupId.valueOf(UUID.randomUUID()), peer);
  }

  private RaftServer start(
      RaftGroup group,
      RecordingStateMachine stateMachine,
      boolean enabled,
      RaftStorage.StartupOption option)
      throws IOException {
    final RaftPeer peer = group.getPeers().iterator().next();
    final RaftProperties p = properties(enabled);
    GrpcConfigKeys.Server.setPort(p, Integer.parseInt(peer.getAddress().split(":")[1]));
    RaftServerConfigKeys.setStorageDir(p, List.of(root.resolve("s1").toFile()));
    final RaftServer s =
        RaftServer.newBuilder()
            .setServerId(peer.getId())
            .setGroup(group)
            .setProperties(p)
            .setStateMachine(stateMachine)
            .setOption(option)
            .build();
    s.start();
    return s;
  }

  private static RaftProperties properties(boolean enabled) {
    final RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    GrpcConfigKeys.Server.setHost(p, "127.0.0.1");
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(500, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(1 << 20));
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(BUFFER_BYTES));
    RaftServerConfigKeys.Log.setWriteBufferSmallerThanEntryEnabled(p, enabled);
    return p;
  }

  private static ByteString bytes(int size, char fill) {
    final byte[] b = new byte[size];
    java.util.Arrays.fill(b, (byte) fill);
    return ByteString.copyFrom(b);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Records the client messages of the entries it applies, in order. */
  private static final class RecordingStateMachine extends BaseStateMachine {
    final List<ByteString> applied = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      applied.add(trx.getLogEntry().getStateMachineLogEntry().getLogData());
      updateLastAppliedTermIndex(trx.getLogEntry().getTerm(), trx.getLogEntry().getIndex());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
  }
}
