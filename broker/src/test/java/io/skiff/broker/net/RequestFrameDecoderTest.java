package io.skiff.broker.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.skiff.broker.memory.RequestBufferPool;
import io.skiff.broker.memory.RequestBufferPool.SizeClass;
import io.skiff.broker.memory.RequestFrameAllocator;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RequestFrameDecoderTest {
  private final RequestBufferPool pool = new RequestBufferPool(8, 8);
  private final EmbeddedChannel channel =
      new EmbeddedChannel(new RequestFrameDecoder(new RequestFrameAllocator(pool), 8 << 20));

  private static byte[] frame(int length, long seed) {
    final byte[] body = new byte[length];
    new Random(seed).nextBytes(body);
    return ByteBuffer.allocate(4 + length).putInt(length).put(body).array();
  }

  @Test
  void framesSplitAnywhereLandWholeInPoolBuffers() {
    final byte[] a = frame(100, 1);
    final byte[] b = frame(70_000, 2);
    final byte[] c = frame(0, 3);
    final byte[] stream = new byte[a.length + b.length + c.length];
    System.arraycopy(a, 0, stream, 0, a.length);
    System.arraycopy(b, 0, stream, a.length, b.length);
    System.arraycopy(c, 0, stream, a.length + b.length, c.length);
    // Deliver in chunks that cut through lengths and bodies: 1, 3, 7, 1000, ... bytes.
    int at = 0;
    for (int chunk = 1; at < stream.length; chunk = chunk * 3 + 1) {
      final int n = Math.min(chunk, stream.length - at);
      channel.writeInbound(Unpooled.wrappedBuffer(stream, at, n));
      at += n;
    }
    final ByteBuf first = channel.readInbound();
    final ByteBuf second = channel.readInbound();
    final ByteBuf third = channel.readInbound();
    assertThat(channel.<Object>readInbound()).isNull();
    try {
      assertThat(first.readableBytes()).isEqualTo(100);
      assertThat(first.capacity()).isEqualTo(RequestBufferPool.SMALL);
      assertThat(ByteBufUtilBytes.of(first)).isEqualTo(ByteBuffer.wrap(a, 4, 100));
      assertThat(second.capacity()).isEqualTo(RequestBufferPool.LARGE_MIN);
      assertThat(ByteBufUtilBytes.of(second)).isEqualTo(ByteBuffer.wrap(b, 4, 70_000));
      assertThat(third.readableBytes()).isZero();
      assertThat(pool.inUse(SizeClass.SMALL)).isEqualTo(2);
      assertThat(pool.inUse(SizeClass.LARGE)).isEqualTo(1);
    } finally {
      first.release();
      second.release();
      third.release();
    }
    assertThat(pool.inUse(SizeClass.SMALL)).isZero();
    assertThat(pool.inUse(SizeClass.LARGE)).isZero();
    assertThat(pool.available(SizeClass.SMALL)).isEqualTo(2);
    assertThat(pool.available(SizeClass.LARGE)).isEqualTo(1);
  }

  @Test
  void closingMidFrameReturnsThePartialBuffer() {
    final byte[] a = frame(10_000, 4);
    channel.writeInbound(Unpooled.wrappedBuffer(a, 0, 5_000));
    assertThat(pool.inUse(SizeClass.MEDIUM)).isEqualTo(1);
    channel.finishAndReleaseAll();
    assertThat(pool.inUse(SizeClass.MEDIUM)).isZero();
  }

  @Test
  void oversizedAndNegativeLengthsFailTheChannel() {
    assertThatThrownBy(
            () -> channel.writeInbound(Unpooled.wrappedBuffer(frame(0, 0)).setInt(0, 9 << 20)))
        .isInstanceOf(TooLongFrameException.class)
        .hasMessageContaining("socket.request.max.bytes");
    final EmbeddedChannel other =
        new EmbeddedChannel(new RequestFrameDecoder(new RequestFrameAllocator(pool), 1000));
    assertThatThrownBy(() -> other.writeInbound(Unpooled.wrappedBuffer(new byte[] {-1, 0, 0, 0})))
        .isInstanceOf(CorruptedFrameException.class);
    assertThat(pool.inUse(SizeClass.SMALL)).isZero();
  }

  /** The readable bytes of a ByteBuf as a ByteBuffer, for comparisons. */
  private static final class ByteBufUtilBytes {
    static ByteBuffer of(ByteBuf buf) {
      return buf.nioBuffer();
    }
  }
}
