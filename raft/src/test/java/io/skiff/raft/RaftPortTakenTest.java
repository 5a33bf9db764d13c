package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Raft port that another process holds fails the node's start with an exception naming the
 * address; it does not end the JVM (Ratis calls System.exit there unless told otherwise, which in a
 * test run kills the test JVM).
 */
class RaftPortTakenTest {
  @TempDir Path dir;

  @Test
  void aTakenPortFailsTheStartWithAClearErrorAndTheJvmLivesOn() throws IOException {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      final RaftNode node =
          new RaftNode(
              RaftCluster.testDefaults(
                  RaftNodeConfig.defaults(1, "127.0.0.1", taken.getLocalPort(), dir)));
      try {
        assertThatThrownBy(node::start)
            .isInstanceOf(IOException.class)
            .hasMessageContaining("cannot listen for Raft on 127.0.0.1:" + taken.getLocalPort());
      } finally {
        node.close();
      }
    }
  }
}
