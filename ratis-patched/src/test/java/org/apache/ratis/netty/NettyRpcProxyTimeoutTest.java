package org.apache.ratis.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcReplyProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerReplyProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.nio.NioEventLoopGroup;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Patch 0024: a blocking call through the Netty transport waits for its reply without a timed wait
 * of its own (on a virtual thread that would arm a timer of the carrier pool's scheduler per call),
 * and still fails with a {@link TimeoutIOException} when no reply comes in time. The peer is a
 * plain socket that reads requests and answers only those it is told to.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NettyRpcProxyTimeoutTest {
  private static final TimeDuration REQUEST_TIMEOUT = TimeDuration.valueOf(1, TimeUnit.SECONDS);

  private final EventLoopGroup group = new NioEventLoopGroup(1);
  private ServerSocket server;
  private Thread peer;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (peer != null) {
      peer.join(5_000);
    }
    group.shutdownGracefully().syncUninterruptibly();
  }

  @Test
  void aCallWaitsUntimedForItsReply() throws Exception {
    try (NettyRpcProxy proxy = proxyToPeer(true, 300)) {
      final CompletableFuture<RaftNettyServerReplyProto> reply = new CompletableFuture<>();
      final Thread caller = Thread.ofVirtual().start(() -> call(proxy, 1, reply));

      // The peer holds the reply for 300 ms: meanwhile the caller waits without a timeout.
      awaitState(caller, Thread.State.WAITING);
      assertThat(caller.getState()).isEqualTo(Thread.State.WAITING);
      assertThat(
              reply.get(10, TimeUnit.SECONDS).getAppendEntriesReply().getServerReply().getCallId())
          .isEqualTo(1);
    }
  }

  @Test
  void aCallWithoutReplyTimesOutAndIsForgotten() throws Exception {
    try (NettyRpcProxy proxy = proxyToPeer(false, 0)) {
      final long start = System.nanoTime();
      assertThatThrownBy(() -> proxy.send(request(7), proto(7)))
          .isInstanceOf(TimeoutIOException.class)
          .hasMessageContaining("callId=7");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(REQUEST_TIMEOUT.toLong(TimeUnit.MILLISECONDS));
      // Forgotten: the same call id is not refused as a duplicate of an outstanding call.
      assertThatThrownBy(() -> proxy.send(request(7), proto(7)))
          .isInstanceOf(TimeoutIOException.class);
    }
  }

  @Test
  void aCallWhoseReplyADuplicateCallIdReplacedStillTimesOut() throws Exception {
    try (NettyRpcProxy proxy = proxyToPeer(false, 0)) {
      final CompletableFuture<RaftNettyServerReplyProto> first = new CompletableFuture<>();
      Thread.ofVirtual().start(() -> call(proxy, 9, first));
      Thread.sleep(200);
      // The duplicate is refused, after it replaced the first call's reply among the outstanding.
      assertThatThrownBy(() -> proxy.send(request(9), proto(9)))
          .isInstanceOf(IllegalStateException.class);
      assertThat(first)
          .failsWithin(10, TimeUnit.SECONDS)
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(TimeoutIOException.class);
    }
  }

  private static void call(
      NettyRpcProxy proxy, long callId, CompletableFuture<RaftNettyServerReplyProto> reply) {
    try {
      reply.complete(proxy.send(request(callId), proto(callId)));
    } catch (Throwable t) {
      reply.completeExceptionally(t);
    }
  }

  private static void awaitState(Thread thread, Thread.State state) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (thread.getState() != state && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
  }

  private NettyRpcProxy proxyToPeer(boolean answer, long answerDelayMs) throws Exception {
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    peer = Thread.ofPlatform().daemon().start(() -> serve(answer, answerDelayMs));
    final RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(properties, REQUEST_TIMEOUT);
    final RaftPeer raftPeer =
        RaftPeer.newBuilder()
            .setId("peer")
            .setAddress("127.0.0.1:" + server.getLocalPort())
            .build();
    return new NettyRpcProxy(raftPeer, properties, group);
  }

  private void serve(boolean answer, long answerDelayMs) {
    try (Socket socket = server.accept()) {
      final InputStream in = socket.getInputStream();
      final OutputStream out = socket.getOutputStream();
      for (RaftNettyServerRequestProto request;
          (request = RaftNettyServerRequestProto.parseDelimitedFrom(in)) != null; ) {
        if (!answer) {
          continue;
        }
        Thread.sleep(answerDelayMs);
        final long callId = request.getAppendEntriesRequest().getServerRequest().getCallId();
        RaftNettyServerReplyProto.newBuilder()
            .setAppendEntriesReply(
                AppendEntriesReplyProto.newBuilder()
                    .setServerReply(
                        RaftRpcReplyProto.newBuilder().setCallId(callId).setSuccess(true)))
            .build()
            .writeDelimitedTo(out);
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // The test closed the server.
    }
  }

  private static RaftRpcRequestProto request(long callId) {
    return RaftRpcRequestProto.newBuilder().setCallId(callId).build();
  }

  private static RaftNettyServerRequestProto proto(long callId) {
    return RaftNettyServerRequestProto.newBuilder()
        .setAppendEntriesRequest(
            AppendEntriesRequestProto.newBuilder().setServerRequest(request(callId)))
        .build();
  }
}
