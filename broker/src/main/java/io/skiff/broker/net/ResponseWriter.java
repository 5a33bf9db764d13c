package io.skiff.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.protocol.Writable;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * Serialises a Kafka response into pooled buffers and zero-copy file regions: Kafka's generated
 * message classes write their fields through this {@link Writable}; a {@link SliceRecords} field
 * closes the current buffer and adds a {@link SegmentFileRegion}, so record bytes are never copied.
 *
 * <p>The parts ({@link ByteBuf}s and file regions, in order) belong to the caller once {@link
 * #finish()} returns them; on failure call {@link #release()}. Not thread-safe.
 */
final class ResponseWriter implements Writable {
  private static final int CHUNK = 4096;

  private final ByteBufAllocator allocator;
  private final List<Object> parts = new ArrayList<>(4);
  private ByteBuf current;
  private long zeroCopyBytes;

  ResponseWriter(ByteBufAllocator allocator, int expectedSize) {
    this.allocator = allocator;
    this.current = allocator.directBuffer(Math.min(Math.max(expectedSize, 64), 1 << 20));
  }

  /** Bytes that will be sent as file regions. */
  long zeroCopyBytes() {
    return zeroCopyBytes;
  }

  List<Object> finish() {
    if (current.isReadable()) {
      parts.add(current);
    } else {
      current.release();
    }
    current = null;
    return parts;
  }

  void release() {
    for (Object part : parts) {
      io.netty.util.ReferenceCountUtil.release(part);
    }
    parts.clear();
    if (current != null) {
      current.release();
      current = null;
    }
  }

  @Override
  public void writeRecords(BaseRecords records) {
    if (records instanceof SliceRecords slice) {
      if (slice.sizeInBytes() > 0) {
        parts.add(current);
        parts.add(
            new SegmentFileRegion(
                slice.slice().channel(), slice.slice().position(), slice.slice().length()));
        zeroCopyBytes += slice.sizeInBytes();
        current = allocator.directBuffer(CHUNK);
      }
    } else if (records instanceof MemoryRecords memory) {
      current.writeBytes(memory.buffer().duplicate());
    } else if (records != null && records.sizeInBytes() > 0) {
      throw new IllegalArgumentException("cannot write records of type " + records.getClass());
    }
  }

  @Override
  public void writeByte(byte val) {
    current.writeByte(val);
  }

  @Override
  public void writeShort(short val) {
    current.writeShort(val);
  }

  @Override
  public void writeInt(int val) {
    current.writeInt(val);
  }

  @Override
  public void writeLong(long val) {
    current.writeLong(val);
  }

  @Override
  public void writeDouble(double val) {
    current.writeLong(Double.doubleToRawLongBits(val));
  }

  @Override
  public void writeByteArray(byte[] arr) {
    current.writeBytes(arr);
  }

  @Override
  public void writeByteBuffer(ByteBuffer buf) {
    current.writeBytes(buf.duplicate());
  }

  @Override
  public void writeUnsignedVarint(int value) {
    int v = value;
    while ((v & 0xffffff80) != 0) {
      current.writeByte((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    current.writeByte(v);
  }

  @Override
  public void writeVarint(int value) {
    writeUnsignedVarint((value << 1) ^ (value >> 31));
  }

  @Override
  public void writeVarlong(long value) {
    long v = (value << 1) ^ (value >> 63);
    while ((v & 0xffffffffffffff80L) != 0L) {
      current.writeByte(((int) v & 0x7f) | 0x80);
      v >>>= 7;
    }
    current.writeByte((int) v);
  }
}
