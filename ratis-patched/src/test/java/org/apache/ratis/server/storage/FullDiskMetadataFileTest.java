package org.apache.ratis.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A term and vote that cannot be written on a full disk leave the previous {@code raft-meta} in
 * place (patch 0007): the group still loads once there is room again. The disk is a 1 MiB tmpfs
 * (mounting one needs root; skipped, saying so, where it is not permitted).
 */
class FullDiskMetadataFileTest {
  @TempDir Path temp;
  private Path mount;

  @BeforeEach
  void mountTinyTmpfs() throws Exception {
    final Path dir = Files.createDirectories(temp.resolve("disk"));
    Assumptions.assumeTrue(
        run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.toString()),
        "mount -t tmpfs is not permitted here (needs root): skipping the full-disk test");
    mount = dir;
  }

  @AfterEach
  void unmount() throws Exception {
    if (mount != null) {
      run("umount", "-l", mount.toString());
    }
  }

  @Test
  void aVoteThatCannotBeWrittenOnAFullDiskKeepsThePreviousOne() throws IOException {
    final File file = mount.resolve("raft-meta").toFile();
    RaftStorageMetadataFileImpl.atomicWrite(
        RaftStorageMetadata.valueOf(3, RaftPeerId.valueOf("broker-1")), file);
    fill(mount.resolve("ballast"));

    assertThatThrownBy(
            () ->
                RaftStorageMetadataFileImpl.atomicWrite(
                    RaftStorageMetadata.valueOf(4, RaftPeerId.valueOf("broker-2")), file))
        .as("the write on a full disk fails")
        .isInstanceOf(IOException.class);

    final RaftStorageMetadata kept = RaftStorageMetadataFileImpl.load(file);
    assertThat(kept.getTerm()).as("the previous term stays").isEqualTo(3);
    assertThat(kept.getVotedFor()).isEqualTo(RaftPeerId.valueOf("broker-1"));
    assertThat(mount.resolve("raft-meta.tmp")).as("no temporary file is left").doesNotExist();
  }

  /** Writes zeros until the disk is full, 512 bytes at a time so nothing is left over. */
  private static void fill(Path ballast) throws IOException {
    final ByteBuffer chunk = ByteBuffer.allocate(512);
    try (FileChannel channel =
        FileChannel.open(ballast, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      while (true) {
        chunk.clear();
        try {
          channel.write(chunk);
        } catch (IOException full) {
          return;
        }
      }
    }
  }

  private static boolean run(String... command) throws Exception {
    final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
  }
}
