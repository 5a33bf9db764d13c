package io.skiff.raft.partition;

import io.skiff.log.Fsync;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The content of one partition snapshot file, written so that a power cut leaves either no file or
 * the whole file ({@link Fsync#writeAtomically}: temporary file fsynced, renamed, directory
 * fsynced):
 *
 * <pre>
 *  term int64 | index int64 | highWatermark int64 | logStartOffset int64   (32 bytes)
 *  expiry clockMs int64 | producer state (ProducerStateTable's format, magic 'PS' + version)
 *                                                   (both absent in files from before version 2)
 * </pre>
 *
 * <p>Thread-safe: stateless.
 */
final class SnapshotFile {
  static final int POINT_BYTES = 32;

  private SnapshotFile() {}

  /** Writes {@code point} and the producer state there to {@code file}, durably. */
  static void write(Path file, PartitionRequest.SnapshotPoint point, ByteBuffer producerState)
      throws IOException {
    final ByteBuffer b =
        ByteBuffer.allocate(POINT_BYTES + producerState.remaining())
            .putLong(point.term())
            .putLong(point.index())
            .putLong(point.highWatermark())
            .putLong(point.logStartOffset());
    b.put(producerState.duplicate());
    Fsync.writeAtomically(file, b.flip());
  }

  /** Reads a snapshot file. */
  static PartitionSnapshots.Loaded read(Path file) throws IOException {
    final ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
    if (b.remaining() < POINT_BYTES) {
      throw new IOException(
          "snapshot file "
              + file
              + " is shorter than "
              + POINT_BYTES
              + " bytes; remove the partition's Raft directory so this replica catches up from"
              + " the leader");
    }
    final PartitionRequest.SnapshotPoint point =
        new PartitionRequest.SnapshotPoint(b.getLong(), b.getLong(), b.getLong(), b.getLong());
    return new PartitionSnapshots.Loaded(point, b.slice());
  }
}
