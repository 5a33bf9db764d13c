package io.skiff.raft.partition;

import io.skiff.log.Fsync;
import io.skiff.log.SegmentedLog;
import io.skiff.raft.producer.ProducerStateTable;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;

/**
 * A partition's snapshots. The data of a snapshot is the partition log itself, up to a high
 * watermark; the snapshot file (Ratis' {@code snapshot.<term>_<index>} naming, with an MD5 beside
 * it) records that point and the producer state there ({@link SnapshotFile}).
 *
 * <p>Durability: Ratis purges its log up to a snapshot once {@link #save} returns, so by then the
 * partition log below the point (the caller flushes it), the snapshot file, its MD5 and their
 * directory entries are all fsynced. Otherwise a power cut could leave a replica with neither the
 * entries nor the snapshot that replaced them, and unable to start.
 *
 * <p>Not thread-safe: used from the group's apply thread and from catch-up, which Ratis never runs
 * at the same time.
 */
final class PartitionSnapshots {
  private final SnapshotStorage storage = new SnapshotStorage();
  private boolean directoriesSynced;

  void init(RaftStorage raftStorage) throws IOException {
    storage.init(raftStorage);
  }

  SnapshotStorage storage() {
    return storage;
  }

  /** The latest snapshot point, or null if none was taken. */
  PartitionRequest.SnapshotPoint latest() throws IOException {
    final Loaded loaded = load();
    return loaded == null ? null : loaded.point();
  }

  /** A snapshot file's content: the point and the producer state bytes (empty in old files). */
  record Loaded(PartitionRequest.SnapshotPoint point, ByteBuffer producerState) {}

  /** The latest snapshot, or null if none was taken. */
  Loaded load() throws IOException {
    final SingleFileSnapshotInfo info = storage.getLatestSnapshot();
    if (info == null) {
      return null;
    }
    return SnapshotFile.read(info.getFile().getPath());
  }

  /** The latest snapshot point, or the log's start when none exists yet. */
  PartitionRequest.SnapshotPoint latestOrStart(SegmentedLog log) throws IOException {
    final PartitionRequest.SnapshotPoint point = latest();
    return point != null
        ? point
        : new PartitionRequest.SnapshotPoint(0, -1, log.logStartOffset(), log.logStartOffset());
  }

  /** Saves a point with the producer state there ({@link ProducerStateTable}'s format). */
  void save(PartitionRequest.SnapshotPoint point, ByteBuffer producerState) throws IOException {
    final File file = storage.getSnapshotFile(point.term(), point.index());
    final Path smDir = file.toPath().toAbsolutePath().getParent();
    if (!directoriesSynced) {
      // Ratis creates the group's directories without fsyncing their parents: once per group,
      // before its first snapshot, make sure the directories naming the snapshots survive.
      Fsync.directory(smDir.getParent()); // names sm/
      Fsync.directory(smDir.getParent().getParent()); // names the group's directory
      directoriesSynced = true;
    }
    SnapshotFile.write(file.toPath(), point, producerState);
    final var md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
    Fsync.directory(smDir); // the MD5 file's name
    storage.updateLatestSnapshot(
        new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), point.term(), point.index()));
  }
}
