package io.skiff.broker.memory;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.nio.ByteBuffer;

/**
 * A Netty allocator of heap {@link ByteBuf}s whose memory comes from a {@link RequestBufferPool}:
 * the request frame decoder asks it for one buffer per frame, and the frame's last {@code
 * release()} gives the memory back to the pool.
 *
 * <pre>
 *   ByteBuf frame = allocator.heapBuffer(frameLength);   // capacity: the pool's size class
 *   try {
 *     frame.writeBytes(socketBytes, frameLength);
 *     parse(frame.nioBuffer());
 *   } finally {
 *     frame.release();                                   // back to the pool
 *   }
 * </pre>
 *
 * <p>Buffers are wrapped by {@link AbstractByteBufAllocator#toLeakAwareBuffer}, as Netty's own
 * allocators do, so Netty's leak detector (PARANOID in tests) reports a frame that is never
 * released. A frame's capacity is fixed (the pool's class size, which may exceed the length asked
 * for); changing it throws. Direct buffers are not offered: request bytes are parsed on the heap
 * and copied once into the Raft entry.
 *
 * <p>Thread-safety: as the pool's, any thread may allocate and release.
 */
public final class RequestFrameAllocator extends AbstractByteBufAllocator {
  private final RequestBufferPool pool;

  public RequestFrameAllocator(RequestBufferPool pool) {
    super(false);
    this.pool = pool;
  }

  public RequestBufferPool pool() {
    return pool;
  }

  @Override
  protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
    return toLeakAwareBuffer(new PooledFrame(this, pool, pool.acquire(initialCapacity)));
  }

  @Override
  protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
    throw new UnsupportedOperationException(
        "request frames are heap buffers from the request buffer pool; use heapBuffer()");
  }

  @Override
  public boolean isDirectBufferPooled() {
    return false;
  }

  /** A heap ByteBuf over a pool buffer's array; deallocation returns the buffer to the pool. */
  private static final class PooledFrame extends UnpooledHeapByteBuf {
    private final RequestBufferPool pool;
    private final ByteBuffer buffer;

    PooledFrame(ByteBufAllocator alloc, RequestBufferPool pool, ByteBuffer buffer) {
      super(alloc, buffer.array(), buffer.capacity());
      this.pool = pool;
      this.buffer = buffer;
      clear(); // wrapping an array makes it all readable; a new frame starts empty
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
      if (newCapacity != capacity()) {
        throw new UnsupportedOperationException(
            "a pooled request frame has a fixed capacity of " + capacity() + " bytes");
      }
      return this;
    }

    @Override
    protected void freeArray(byte[] array) {
      pool.release(buffer);
    }
  }
}
