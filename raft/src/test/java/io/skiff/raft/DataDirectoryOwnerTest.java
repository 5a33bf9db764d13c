package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.testing.ListenPorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A data directory belongs to the node.id that first used it. */
class DataDirectoryOwnerTest {
  @TempDir Path dir;

  @Test
  void aNodeRefusesToStartOnTheDataDirectoryOfAnotherNodeId() throws IOException {
    final Path data = dir.resolve("data");
    try (RaftNode first = new RaftNode(config(1, data))) {
      first.start();
    }
    assertThat(data.resolve(DataDirectoryOwner.FILE)).exists();

    assertThatThrownBy(() -> new RaftNode(config(2, data)).close())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("belongs to node.id 1")
        .hasMessageContaining("this broker is node.id 2");

    try (RaftNode again = new RaftNode(config(1, data))) {
      again.start(); // its owner starts on it as before
    }
  }

  @Test
  void anUnreadableOwnerFileStopsTheStart() throws IOException {
    final Path data = Files.createDirectories(dir.resolve("data"));
    Files.writeString(data.resolve(DataDirectoryOwner.FILE), "node.id=three\n");

    assertThatThrownBy(() -> new RaftNode(config(3, data)).close())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("names no valid node.id");
  }

  private static RaftNodeConfig config(int nodeId, Path data) {
    return RaftCluster.testDefaults(
        RaftNodeConfig.defaults(nodeId, "127.0.0.1", ListenPorts.free(), data));
  }
}
