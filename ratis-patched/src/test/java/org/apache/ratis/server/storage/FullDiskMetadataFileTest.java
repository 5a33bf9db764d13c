package org.apache.ratis.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.testing.SmallTmpfs;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A term and vote that cannot be written on a full disk leave the previous {@code raft-meta} in
 * place (patch 0007): the group still loads once there is room again. The disk is a 1 MiB tmpfs
 * (mounting one needs root; skipped, saying so, where it is not permitted).
 */
class FullDiskMetadataFileTest {
  @RegisterExtension final SmallTmpfs disk = SmallTmpfs.perTest("1m", "full-disk test");

  @Test
  void aVoteThatCannotBeWrittenOnAFullDiskKeepsThePreviousOne() throws IOException {
    final Path mount = disk.path();
    final File file = mount.resolve("raft-meta").toFile();
    RaftStorageMetadataFileImpl.atomicWrite(
        RaftStorageMetadata.valueOf(3, RaftPeerId.valueOf("broker-1")), file);
    // Full to the last byte: 512 bytes at a time, so nothing is left over.
    SmallTmpfs.fill(mount.resolve("ballast"), 512, written -> written);

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
}
