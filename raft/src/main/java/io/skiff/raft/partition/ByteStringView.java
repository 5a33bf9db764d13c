package io.skiff.raft.partition;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteOutput;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * A {@link ByteBuffer} over a protobuf {@link ByteString}'s own bytes, without copying, for readers
 * that are slower on read-only buffers: {@code ByteString.asReadOnlyByteBuffer()} hides the backing
 * array, and {@link java.util.zip.CRC32C#update(ByteBuffer)} then copies the bytes through a new
 * temporary array on every call, where over an array-backed buffer it reads the array in place. A
 * follower's partition-log append CRC-checks every replicated batch, so this is one copy and one
 * garbage array per batch.
 *
 * <p>The view shares the string's memory: the caller must only read it (ByteStrings are immutable
 * by contract). A string held in several pieces (a rope) is returned as the read-only buffer.
 * Thread safety: stateless.
 */
final class ByteStringView {
  private ByteStringView() {}

  /** The bytes of {@code data} between position and limit; array-backed when the string is flat. */
  static ByteBuffer of(ByteString data) {
    final Capture capture = new Capture();
    try {
      UnsafeByteOperations.unsafeWriteTo(data, capture);
    } catch (IOException e) {
      throw new IllegalStateException("ByteOutput into memory cannot fail", e);
    }
    return capture.pieces == 1 && capture.view != null ? capture.view : data.asReadOnlyByteBuffer();
  }

  /** Receives the string's pieces; keeps the first as a buffer and counts them. */
  private static final class Capture extends ByteOutput {
    private ByteBuffer view;
    private int pieces;

    @Override
    public void writeLazy(byte[] value, int offset, int length) {
      pieces++;
      view = ByteBuffer.wrap(value, offset, length).slice();
    }

    @Override
    public void writeLazy(ByteBuffer value) {
      pieces++;
      view = value.isReadOnly() ? null : value.slice();
    }

    @Override
    public void write(byte value) {
      pieces = 2; // copied out byte by byte: no single piece to share
    }

    @Override
    public void write(byte[] value, int offset, int length) {
      pieces = 2;
    }

    @Override
    public void write(ByteBuffer value) {
      pieces = 2;
    }
  }
}
