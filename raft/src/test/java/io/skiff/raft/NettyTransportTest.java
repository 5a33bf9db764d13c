package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.partition.PartitionId;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.NetUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Raft nodes on Ratis' Netty transport ({@code raft.rpc.type=netty}) with the brokers' election
 * timeouts: replication, a leader killed and restarted, a follower catching up, and a replica moved
 * to a fourth node, each request kind Skiff sends between nodes (AppendEntries, votes, group
 * management and info, set configuration, leader transfer, read-only queries); and a node that
 * closes the connection of whatever sends it bytes that are no request, and keeps replicating.
 *
 * <p>Netty is the default transport, so every raft suite runs over it too; this test pins it with
 * the brokers' election timeouts (the suites use test timings). {@code
 * -Dskiff.test.raft.rpc.type=grpc} runs the suites over gRPC.
 */
class NettyTransportTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void replicatesFailsOverAndMovesAReplicaOverNetty() throws Exception {
    try (RaftCluster cluster =
        new RaftCluster(
            dir,
            3,
            c ->
                c.withRpcType(RaftRpcType.NETTY)
                    .withElectionTimeout(1_000, 2_000)
                    .withSnapshotEntries(200))) {
      for (int node : cluster.runningIds()) {
        assertThat(cluster.node(node).server().getRpcType()).isEqualTo(SupportedRpcType.NETTY);
      }
      final PartitionId id = RaftCluster.newPartition("netty", 0);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      final int newLeader = workload.produceAcrossALeaderRestart(300, 300, WAIT);
      workload.produce(100);
      workload.assertReplicasIdentical();

      final int leaving = newLeader == 1 ? 2 : 1;
      final int[] staying = IntStream.of(1, 2, 3).filter(n -> n != leaving).toArray();
      cluster.addNode(4).joinPartition(id, cluster.peers(1, 2, 3));
      cluster
          .node(newLeader)
          .membership()
          .reassign(id, cluster.peers(staying[0], staying[1], 4), WAIT);
      cluster.node(leaving).removePartition(id, true);
      cluster.stop(leaving);

      workload.produce(100);
      workload.assertReplicasIdentical();
      assertThat(workload.acknowledgedCount()).isEqualTo(800);
      assertThat(cluster.replica(4, id).highWatermark())
          .isGreaterThanOrEqualTo(workload.highestAcknowledgedEnd());
    }
  }

  @Test
  void closesTheConnectionOfBytesThatAreNoRequestAndKeepsReplicating() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c.withRpcType(RaftRpcType.NETTY))) {
      final PartitionId id = RaftCluster.newPartition("netty", 0);
      cluster.createPartition(id, 1, 2, 3);
      final Workload workload = new Workload(cluster, id);
      workload.produce(50);

      final List<byte[]> notRequests =
          List.of(
              // a frame of an empty message: no request case set (what a gRPC client's bytes made)
              new byte[] {0},
              // a frame that is not protobuf
              new byte[] {3, -1, -1, -1},
              // a frame announced as 1 GiB, over the message size limit: nothing of it is buffered
              new byte[] {-128, -128, -128, -128, 4},
              // a length that is no varint32
              new byte[] {-1, -1, -1, -1, -1, -1, 1});
      for (int node : cluster.runningIds()) {
        final InetSocketAddress address =
            NetUtils.createSocketAddr(cluster.peers(node).get(0).getAddress());
        for (byte[] bytes : notRequests) {
          assertThat(closedAfterSending(address, bytes))
              .as("node %d closes after %d bytes starting %d", node, bytes.length, bytes[0])
              .isTrue();
        }
      }

      workload.produce(50);
      workload.assertReplicasIdentical();
      assertThat(workload.acknowledgedCount()).isEqualTo(100);
    }
  }

  /** Whether the server closes the connection within 10 s of bytes sent to it. */
  private static boolean closedAfterSending(InetSocketAddress address, byte[] bytes)
      throws IOException {
    try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(bytes);
      socket.getOutputStream().flush();
      final InputStream in = socket.getInputStream();
      return in.read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true; // reset by the server: closed too
    }
  }
}
