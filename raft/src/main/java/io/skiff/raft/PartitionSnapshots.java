package io.skiff.raft;

import io.skiff.log.SegmentedLog;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;

/**
 * A partition's snapshots. The data of a snapshot is the partition log itself, up to a high
 * watermark; the snapshot file (Ratis' {@code snapshot.<term>_<index>} naming, with an MD5 beside
 * it) records only that point:
 *
 * <pre>
 *  term int64 | index int64 | highWatermark int64 | logStartOffset int64
 * </pre>
 *
 * <p>Not thread-safe: used from the group's apply thread and from catch-up, which Ratis never runs
 * at the same time.
 */
final class PartitionSnapshots {
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();

  void init(RaftStorage raftStorage) throws IOException {
    storage.init(raftStorage);
  }

  SimpleStateMachineStorage storage() {
    return storage;
  }

  /** The latest snapshot point, or null if none was taken. */
  PartitionRequest.SnapshotPoint latest() throws IOException {
    final SingleFileSnapshotInfo info = storage.getLatestSnapshot();
    if (info == null) {
      return null;
    }
    final ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(info.getFile().getPath()));
    if (b.remaining() != 32) {
      throw new IOException("snapshot file " + info.getFile().getPath() + " is not 32 bytes");
    }
    return new PartitionRequest.SnapshotPoint(b.getLong(), b.getLong(), b.getLong(), b.getLong());
  }

  /** The latest snapshot point, or the log's start when none exists yet. */
  PartitionRequest.SnapshotPoint latestOrStart(SegmentedLog log) throws IOException {
    final PartitionRequest.SnapshotPoint point = latest();
    return point != null
        ? point
        : new PartitionRequest.SnapshotPoint(0, -1, log.logStartOffset(), log.logStartOffset());
  }

  void save(PartitionRequest.SnapshotPoint point) throws IOException {
    final File file = storage.getSnapshotFile(point.term(), point.index());
    final File tmp = new File(file.getPath() + ".tmp");
    final ByteBuffer b =
        ByteBuffer.allocate(32)
            .putLong(point.term())
            .putLong(point.index())
            .putLong(point.highWatermark())
            .putLong(point.logStartOffset());
    Files.write(tmp.toPath(), b.array());
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE);
    final var md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
    storage.updateLatestSnapshot(
        new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), point.term(), point.index()));
  }
}
