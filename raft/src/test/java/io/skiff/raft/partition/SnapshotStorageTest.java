package io.skiff.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.server.storage.StorageImplUtils;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStorageTest {
  @TempDir Path dir;
  private RaftStorage raftStorage;

  @AfterEach
  void close() throws IOException {
    if (raftStorage != null) {
      raftStorage.close();
    }
  }

  /** A real Ratis storage directory, formatted as Ratis formats a new group's. */
  private RaftStorage raftStorage() throws IOException {
    final File groupDir = Files.createDirectories(dir.resolve("group")).toFile();
    raftStorage =
        StorageImplUtils.newRaftStorage(
            groupDir,
            SizeInBytes.ONE_MB,
            RaftStorage.StartupOption.FORMAT,
            RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION);
    raftStorage.initialize();
    return raftStorage;
  }

  /**
   * Writes a snapshot file and its MD5 the way Skiff's state machines do, bypassing the storage.
   */
  private static SingleFileSnapshotInfo writeByHand(SnapshotStorage storage, long term, long index)
      throws IOException {
    final File file = storage.getSnapshotFile(term, index);
    Files.write(file.toPath(), new byte[] {1, 2, 3});
    final var md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
    return new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), term, index);
  }

  @Test
  void aGroupWithoutSnapshotsDoesNotListItsDirectoryAgainOnEveryLookUp() throws IOException {
    final SnapshotStorage storage = new SnapshotStorage();
    storage.init(raftStorage());
    assertThat(storage.getLatestSnapshot()).isNull();

    // Stock SimpleStateMachineStorage lists the directory on each look-up while it has found
    // nothing, so it would pick this file up; this storage knows there was none at start.
    writeByHand(storage, 1, 40);
    for (int i = 0; i < 3; i++) {
      assertThat(storage.getLatestSnapshot()).as("look-up %d", i).isNull();
    }

    // Listing again on purpose (after Ratis paused and reinitialized the machine) finds it.
    assertThat(storage.loadLatestSnapshot().getIndex()).isEqualTo(40);
    assertThat(storage.getLatestSnapshot().getIndex()).isEqualTo(40);
  }

  @Test
  void aSnapshotWrittenThroughTheStorageIsSeenAtOnceAndAnOlderOneNeverReplacesIt()
      throws IOException {
    final SnapshotStorage storage = new SnapshotStorage();
    storage.init(raftStorage());

    final SingleFileSnapshotInfo taken = writeByHand(storage, 2, 100);
    assertThat(storage.updateLatestSnapshot(taken)).isSameAs(taken);
    assertThat(storage.getLatestSnapshot()).isSameAs(taken);

    final SingleFileSnapshotInfo older = writeByHand(storage, 2, 90);
    assertThat(storage.updateLatestSnapshot(older)).isSameAs(taken);
    assertThat(storage.getLatestSnapshot()).isSameAs(taken);

    final SingleFileSnapshotInfo installed = writeByHand(storage, 3, 250);
    storage.updateLatestSnapshot(installed);
    assertThat(storage.getLatestSnapshot()).isSameAs(installed);
  }

  @Test
  void startingFindsTheLatestSnapshotWithAnMd5OnDisk() throws IOException {
    final RaftStorage raft = raftStorage();
    final SnapshotStorage before = new SnapshotStorage();
    before.init(raft);
    writeByHand(before, 1, 10);
    writeByHand(before, 1, 30);
    final File unfinished = before.getSnapshotFile(1, 50); // no MD5: a write cut short
    Files.write(unfinished.toPath(), new byte[] {9});

    final SnapshotStorage restarted = new SnapshotStorage();
    restarted.init(raft);
    assertThat(restarted.getLatestSnapshot().getIndex()).isEqualTo(30);
    assertThat(restarted.getLatestSnapshot().getTerm()).isEqualTo(1);
  }
}
