package io.skiff.broker.memory;

import com.codahale.metrics.MetricRegistry;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory a broker lets produce requests hold while they wait for replication (the memory
 * profile's producer memory pool, {@code buffer.memory} 32 MiB by default, on the broker side).
 *
 * <p>The Kafka listener {@linkplain #reserveOrWait reserves} a Produce request's record bytes as
 * soon as the request is decoded and {@linkplain #release releases} them when the request's appends
 * are committed (or failed). When the pool is exhausted the request waits, FIFO, and the connection
 * stops reading until the memory comes back or the wait times out; callbacks make the wait
 * non-blocking, so a Netty event loop never blocks here. A waiting request holds back every later
 * reservation, so large requests are not starved by small ones. A request larger than the whole
 * pool reserves the whole pool.
 *
 * <p>Like Kafka's {@code BufferPool}, it also keeps a free list of {@code batchSize} (16 KiB)
 * buffers for code that builds batches inside the broker ({@link #tryAllocate}/{@link
 * #deallocate}); free-list buffers count as available memory and are dropped when a reservation
 * needs their room.
 *
 * <pre>
 *   total = used + available,   available = unpooled bytes + free-list buffers × batchSize
 * </pre>
 *
 * <p>Thread-safety: all methods may be called from any thread; accounting is under one lock, and
 * grant callbacks run outside it, on the releasing thread (they should hand work to their own
 * thread).
 */
public final class ProduceMemoryPool {
  /** The seed's {@code buffer.memory}. */
  public static final long DEFAULT_TOTAL_BYTES = 32L << 20;

  /** The seed's {@code batch.size}. */
  public static final int DEFAULT_BATCH_SIZE = 16 << 10;

  private final long totalBytes;
  private final int batchSize;
  private final Queue<ByteBuffer> free = new ConcurrentLinkedQueue<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final AtomicLong waits = new AtomicLong();
  private final AtomicLong timeouts = new AtomicLong();
  private long unpooledAvailable; // guarded by this
  private int freeCount; // guarded by this

  public ProduceMemoryPool(long totalBytes, int batchSize) {
    if (totalBytes < batchSize || batchSize <= 0) {
      throw new IllegalArgumentException(
          "produce memory of "
              + totalBytes
              + " bytes must be at least one batch of "
              + batchSize
              + " bytes");
    }
    this.totalBytes = totalBytes;
    this.batchSize = batchSize;
    this.unpooledAvailable = totalBytes;
  }

  /** A reservation waiting for memory; see {@link #reserveOrWait} and {@link #cancel}. */
  public static final class Waiter {
    private final long bytes;
    private final Runnable onGranted;
    private boolean granted; // guarded by the pool

    private Waiter(long bytes, Runnable onGranted) {
      this.bytes = bytes;
      this.onGranted = onGranted;
    }

    /** The bytes this waiter will hold once granted. */
    public long bytes() {
      return bytes;
    }
  }

  /** The bytes a reservation of {@code requested} bytes actually holds: at most the whole pool. */
  public long reservationFor(long requested) {
    return Math.min(Math.max(requested, 0), totalBytes);
  }

  /**
   * Reserves {@code reservationFor(bytes)} bytes at once if no one is waiting and they are
   * available, and returns null; otherwise queues a waiter and returns it. {@code onGranted} runs
   * once the waiter's bytes are reserved (on the thread that released memory), unless it was
   * {@linkplain #cancel cancelled} first.
   */
  public Waiter reserveOrWait(long bytes, Runnable onGranted) {
    final long size = reservationFor(bytes);
    synchronized (this) {
      if (waiters.isEmpty() && take(size)) {
        return null;
      }
      final Waiter waiter = new Waiter(size, onGranted);
      waiters.add(waiter);
      waits.incrementAndGet();
      return waiter;
    }
  }

  /**
   * Withdraws a waiter (its wait timed out, or its connection closed).
   *
   * @return true if it was withdrawn holding nothing; false if it had already been granted, in
   *     which case its grant callback runs (or ran) and the caller owns the bytes
   */
  public boolean cancel(Waiter waiter) {
    synchronized (this) {
      if (waiter.granted) {
        return false;
      }
      waiters.remove(waiter);
    }
    grantWaiters(); // the head may have been what held the others back
    return true;
  }

  /** Counts a wait that ended in a timeout answer (the {@code timeouts} metric). */
  public void recordTimeout() {
    timeouts.incrementAndGet();
  }

  /** Returns reserved bytes and grants waiting reservations that now fit, in order. */
  public void release(long bytes) {
    if (bytes <= 0) {
      return;
    }
    synchronized (this) {
      unpooledAvailable += bytes;
      if (unpooledAvailable + (long) freeCount * batchSize > totalBytes) {
        unpooledAvailable -= bytes;
        throw new IllegalStateException(
            "released " + bytes + " bytes more than were reserved from the produce memory pool");
      }
    }
    grantWaiters();
  }

  /**
   * A batch buffer: a cleared one from the free list when {@code size} is the batch size, else a
   * new one; null when the memory is not available (no waiting: callers that can wait use {@link
   * #reserveOrWait}).
   */
  public ByteBuffer tryAllocate(int size) {
    synchronized (this) {
      if (size == batchSize && freeCount > 0) {
        final ByteBuffer pooled = free.poll();
        freeCount--;
        return pooled;
      }
      if (!waiters.isEmpty() || !take(size)) {
        return null;
      }
    }
    return ByteBuffer.allocate(size);
  }

  /** Returns a buffer from {@link #tryAllocate}; batch-sized ones go to the free list. */
  public void deallocate(ByteBuffer buffer) {
    if (buffer.capacity() != batchSize) {
      release(buffer.capacity());
      return;
    }
    buffer.clear();
    synchronized (this) {
      free.offer(buffer);
      freeCount++;
    }
    grantWaiters();
  }

  /** Takes {@code size} bytes from the unpooled memory, dropping free buffers to make room. */
  private boolean take(long size) {
    if (unpooledAvailable + (long) freeCount * batchSize < size) {
      return false;
    }
    while (unpooledAvailable < size) {
      free.poll();
      freeCount--;
      unpooledAvailable += batchSize;
    }
    unpooledAvailable -= size;
    return true;
  }

  private void grantWaiters() {
    final List<Waiter> granted = new ArrayList<>();
    synchronized (this) {
      while (!waiters.isEmpty() && take(waiters.peek().bytes)) {
        final Waiter w = waiters.poll();
        w.granted = true;
        granted.add(w);
      }
    }
    for (Waiter w : granted) {
      w.onGranted.run();
    }
  }

  public long totalBytes() {
    return totalBytes;
  }

  public int batchSize() {
    return batchSize;
  }

  /** Bytes reserved or handed out as buffers. */
  public synchronized long usedBytes() {
    return totalBytes - availableBytes();
  }

  /** Bytes that can be reserved now, free-list buffers included. */
  public synchronized long availableBytes() {
    return unpooledAvailable + (long) freeCount * batchSize;
  }

  /** Reservations waiting for memory (one per stalled connection in the broker). */
  public synchronized int waiting() {
    return waiters.size();
  }

  /** Reservations that had to wait, since start. */
  public long waits() {
    return waits.get();
  }

  /** Waits that ended in a timeout answer, since start. */
  public long timeouts() {
    return timeouts.get();
  }

  /**
   * Registers {@code memory.produce_pool.used.bytes}, {@code .available.bytes}, {@code
   * .total.bytes}, {@code .waiting} (connections stalled now), {@code .waits} and {@code .timeouts}
   * (since start).
   */
  public void registerMetrics(MetricRegistry registry) {
    registry.gauge("memory.produce_pool.used.bytes", () -> this::usedBytes);
    registry.gauge("memory.produce_pool.available.bytes", () -> this::availableBytes);
    registry.gauge("memory.produce_pool.total.bytes", () -> this::totalBytes);
    registry.gauge("memory.produce_pool.waiting", () -> this::waiting);
    registry.gauge("memory.produce_pool.waits", () -> this::waits);
    registry.gauge("memory.produce_pool.timeouts", () -> this::timeouts);
  }
}
