package io.skiff.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.skiff.broker.memory.RequestFrameAllocator;

/**
 * Splits the byte stream of a Kafka connection into request frames, each copied straight from the
 * socket's read buffers into one buffer of the {@link io.skiff.broker.memory.RequestBufferPool}.
 *
 * <pre>
 *   0        4                           4 + length
 *   +--------+---------------------------+
 *   | length |  request (header + body)  |     length: int32, big-endian, 0..max
 *   +--------+---------------------------+
 * </pre>
 *
 * <p>Why a decoder of its own rather than Netty's {@code LengthFieldBasedFrameDecoder}: that one
 * accumulates partial frames in a cumulation buffer that grows by reallocation and then hands out
 * slices of it, so the frame's memory is neither sized by class nor reusable. Here, once the four
 * length bytes are in, the frame's buffer is taken from the pool at its final size class and the
 * body bytes are copied into it as they arrive: one copy per byte (as cumulation would make), no
 * growth, and a large frame never sits in a cumulation buffer at all.
 *
 * <p>Each frame is fired downstream as a {@link ByteBuf} with reference count 1 that the next
 * handler owns and must release (which returns the memory to the pool). A negative length is a
 * {@link CorruptedFrameException}, a length over {@code socket.request.max.bytes} a {@link
 * TooLongFrameException}; after either the decoder drops all further input and the exception goes
 * down the pipeline, whose last handler closes the connection.
 *
 * <p>Like {@code ByteToMessageDecoder}, when auto-read is off and a read produced no complete
 * frame, it asks for one more read, so a half-received frame is finished before reading pauses.
 *
 * <p>Thread-safety: one instance per channel, called on its event loop only.
 */
final class RequestFrameDecoder extends ChannelInboundHandlerAdapter {
  private static final int LENGTH_BYTES = 4;

  private final RequestFrameAllocator allocator;
  private final int maxFrameBytes;
  private int lengthBytesRead;
  private int length;
  private ByteBuf frame; // the frame being filled, or null while reading a length
  private boolean failed;
  private boolean firedFrame;

  RequestFrameDecoder(RequestFrameAllocator allocator, int maxFrameBytes) {
    this.allocator = allocator;
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    final ByteBuf in = (ByteBuf) msg;
    try {
      while (!failed && (in.isReadable() || frameComplete())) {
        if (frame == null && !readLength(in)) {
          return;
        }
        final int n = Math.min(length - frame.writerIndex(), in.readableBytes());
        frame.writeBytes(in, n);
        if (frameComplete()) {
          final ByteBuf complete = frame;
          frame = null;
          lengthBytesRead = 0;
          length = 0;
          firedFrame = true;
          ctx.fireChannelRead(complete);
        }
      }
    } finally {
      in.release();
    }
  }

  private boolean frameComplete() {
    return frame != null && frame.writerIndex() == length;
  }

  /** Reads length bytes; once all four are in, validates the length and takes the frame buffer. */
  private boolean readLength(ByteBuf in) {
    while (lengthBytesRead < LENGTH_BYTES && in.isReadable()) {
      length = (length << 8) | in.readUnsignedByte();
      lengthBytesRead++;
    }
    if (lengthBytesRead < LENGTH_BYTES) {
      return false;
    }
    if (length < 0) {
      failed = true;
      throw new CorruptedFrameException("negative frame length " + length);
    }
    if (length > maxFrameBytes) {
      failed = true;
      throw new TooLongFrameException(
          "frame of "
              + length
              + " bytes exceeds socket.request.max.bytes "
              + maxFrameBytes
              + "; raise it if such requests are expected");
    }
    frame = allocator.heapBuffer(length);
    return true;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (!firedFrame && !failed && !ctx.channel().config().isAutoRead()) {
      ctx.read();
    }
    firedFrame = false;
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releasePartialFrame();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releasePartialFrame();
  }

  private void releasePartialFrame() {
    if (frame != null) {
      frame.release();
      frame = null;
    }
  }
}
