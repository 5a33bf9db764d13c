package io.skiff.raft.partition;

import io.skiff.raft.producer.PartitionProducers;
import java.nio.ByteBuffer;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * The messages a partition's Raft group understands, each a type byte then a payload.
 *
 * <pre>
 *  APPEND         'A' | record batches ...                  (write)
 *  DELETE_RECORDS 'D' | offset int64                        (write)
 *  FETCH          'F' | offset int64 | maxBytes int32 | maxOffset int64  (read-only, leader)
 *  SNAPSHOT_POINT 'S'                                       (read-only query to the leader)
 * </pre>
 *
 * Replies: APPEND answers {@code baseOffset int64 | nextOffset int64}; DELETE_RECORDS answers the
 * leader's new {@code logStartOffset int64}; FETCH answers whole batches below both {@code
 * maxOffset} and the leader's high watermark; SNAPSHOT_POINT answers {@code term int64 | index
 * int64 | highWatermark int64 | logStartOffset int64} of the leader's latest snapshot.
 */
public final class PartitionRequest {
  static final byte APPEND = 'A';
  static final byte DELETE_RECORDS = 'D';
  static final byte FETCH = 'F';
  static final byte SNAPSHOT_POINT = 'S';

  private PartitionRequest() {}

  /** An append request; copies the batches once, into the message. */
  static Message append(ByteBuffer batches) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(appendContent(batches)));
  }

  /**
   * An append request's content, {@code 'A'} then the batches, copied once into a fresh heap buffer
   * that nobody else holds: the local submitter may hand it over to the state machine, which then
   * uses it as the entry's mutable batches (see {@link PartitionStateMachine#handOver}).
   */
  static ByteBuffer appendContent(ByteBuffer batches) {
    final ByteBuffer content = ByteBuffer.allocate(1 + batches.remaining());
    content.put(APPEND).put(batches.duplicate()).flip();
    return content;
  }

  /** Moves every replica's log start up to {@code offset} (bounded there by the high watermark). */
  static Message deleteRecords(long offset) {
    final ByteBuffer content = ByteBuffer.allocate(9);
    content.put(DELETE_RECORDS).putLong(offset).flip();
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(content));
  }

  public static Message fetch(long offset, int maxBytes, long maxOffset) {
    final ByteBuffer content = ByteBuffer.allocate(21);
    content.put(FETCH).putLong(offset).putInt(maxBytes).putLong(maxOffset).flip();
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(content));
  }

  public static Message snapshotPoint() {
    return Message.valueOf(ByteString.copyFrom(new byte[] {SNAPSHOT_POINT}));
  }

  static byte type(ByteString content) {
    if (content.isEmpty()) {
      throw new IllegalArgumentException("empty partition request");
    }
    return content.byteAt(0);
  }

  /** The payload after the type byte, as a read-only view. */
  static ByteBuffer payload(ByteString content) {
    return content.substring(1).asReadOnlyByteBuffer();
  }

  static Message appendReply(long baseOffset, long nextOffset) {
    final ByteBuffer reply = ByteBuffer.allocate(16).putLong(baseOffset).putLong(nextOffset).flip();
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(reply));
  }

  static Message deleteRecordsReply(long logStartOffset) {
    final ByteBuffer reply = ByteBuffer.allocate(8).putLong(logStartOffset).flip();
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(reply));
  }

  /**
   * The leader's catch-up point: the 32-byte point, then the producer state at that point (in
   * {@link PartitionProducers#snapshot}'s format; empty when there is no snapshot).
   */
  static Message snapshotPointReply(SnapshotPoint point, ByteBuffer producerState) {
    final ByteBuffer reply =
        ByteBuffer.allocate(32 + producerState.remaining())
            .putLong(point.term())
            .putLong(point.index())
            .putLong(point.highWatermark())
            .putLong(point.logStartOffset())
            .put(producerState.duplicate())
            .flip();
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(reply));
  }

  public static SnapshotPoint parseSnapshotPoint(ByteString reply) {
    final ByteBuffer b = reply.asReadOnlyByteBuffer();
    return new SnapshotPoint(b.getLong(), b.getLong(), b.getLong(), b.getLong());
  }

  /** The producer state after the point in a {@link #snapshotPointReply}, as a read-only view. */
  public static ByteBuffer parseSnapshotProducerState(ByteString reply) {
    return reply.substring(32).asReadOnlyByteBuffer();
  }

  /**
   * Where a partition snapshot stands: the Raft log position it covers and the partition log's high
   * watermark and start offset at that position.
   */
  public record SnapshotPoint(long term, long index, long highWatermark, long logStartOffset) {}
}
