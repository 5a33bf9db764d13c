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
 * it) records that point and the producer state there:
 *
 * <pre>
 *  term int64 | index int64 | highWatermark int64 | logStartOffset int64   (32 bytes)
 *  expiry clockMs int64 | producer state (ProducerStateTable's format, magic 'PS' + version)
 *                                                   (both absent in files from before version 2)
 * </pre>
 *
 * <p>Not thread-safe: used from the group's apply thread and from catch-up, which Ratis never runs
 * at the same time.
 */
final class PartitionSnapshots {
  private static final int POINT_BYTES = 32;

  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();

  void init(RaftStorage raftStorage) throws IOException {
    storage.init(raftStorage);
  }

  SimpleStateMachineStorage storage() {
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
    final ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(info.getFile().getPath()));
    if (b.remaining() < POINT_BYTES) {
      throw new IOException(
          "snapshot file "
              + info.getFile().getPath()
              + " is shorter than "
              + POINT_BYTES
              + " bytes");
    }
    final PartitionRequest.SnapshotPoint point =
        new PartitionRequest.SnapshotPoint(b.getLong(), b.getLong(), b.getLong(), b.getLong());
    return new Loaded(point, b.slice());
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
    final File tmp = new File(file.getPath() + ".tmp");
    final ByteBuffer b =
        ByteBuffer.allocate(POINT_BYTES + producerState.remaining())
            .putLong(point.term())
            .putLong(point.index())
            .putLong(point.highWatermark())
            .putLong(point.logStartOffset());
    b.put(producerState.duplicate());
    Files.write(tmp.toPath(), b.array());
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE);
    final var md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
    storage.updateLatestSnapshot(
        new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), point.term(), point.index()));
  }
}
