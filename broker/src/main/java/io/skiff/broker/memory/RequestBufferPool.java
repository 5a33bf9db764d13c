package io.skiff.broker.memory;

import com.codahale.metrics.MetricRegistry;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Heap buffers for request frames, in three size classes, reused across requests (the memory
 * profile's "broker request buffers"):
 *
 * <pre>
 *   class    capacity                         retains at most
 *   ───────  ───────────────────────────────  ───────────────────────────
 *   small    4 KiB        (frames ≤ 4 KiB)    smallRetained buffers
 *   medium   64 KiB       (frames ≤ 64 KiB)   mediumRetained buffers
 *   large    max(1 MiB, next power of two)    64 buffers and largeRetainedBytes, all sizes together
 * </pre>
 *
 * <p>{@link #acquire} hands out a cleared buffer whose capacity is the class size (at least the
 * size asked for); {@link #release} takes it back. A large buffer is only handed out again for a
 * request of its exact power-of-two size, so one 64 MiB frame never pins 64 MiB for a 1 MiB one. A
 * returned buffer beyond a class's retention, or of a size no class has, is dropped for the garbage
 * collector: the pool's footprint is bounded by the retention limits plus what is in use. (The
 * large class is bounded in bytes as well as in count: 64 buffers of up to {@code
 * socket.request.max.bytes} rounded up could otherwise keep gigabytes.)
 *
 * <p>Per class it counts buffers in use and available, acquisitions ({@code allocations}, the
 * seed's allocation stats) and acquisitions that found the class empty and allocated a new buffer
 * ({@code misses}); see {@link #registerMetrics}.
 *
 * <p>Thread-safety: lock-free; any thread may acquire and release. Ownership: a buffer belongs to
 * its caller from {@code acquire} until it passes it to {@code release}, exactly once; the pool
 * keeps no reference to buffers in use.
 */
public final class RequestBufferPool {
  /** Capacity of the small class (metadata-sized requests). */
  public static final int SMALL = 4 << 10;

  /** Capacity of the medium class (typical produce and fetch requests). */
  public static final int MEDIUM = 64 << 10;

  /** Smallest capacity of the large class. */
  public static final int LARGE_MIN = 1 << 20;

  /** How many large buffers, of all sizes together, the pool keeps. */
  public static final int LARGE_RETAINED = 64;

  /** How many bytes of large buffers the pool keeps unless told otherwise: 64 of 1 MiB. */
  public static final long DEFAULT_LARGE_RETAINED_BYTES = 64L << 20;

  private static final int LARGE_MIN_SHIFT = 20;
  private static final int MAX_SHIFT = 30;

  /** The size classes, for metrics and statistics. */
  public enum SizeClass {
    SMALL,
    MEDIUM,
    LARGE;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final ClassStats small;
  private final ClassStats medium;
  private final ClassStats large;
  private final Queue<ByteBuffer> smallFree = new ConcurrentLinkedQueue<>();
  private final Queue<ByteBuffer> mediumFree = new ConcurrentLinkedQueue<>();
  private final long largeRetainedBytes;
  private final AtomicLong largeAvailableBytes = new AtomicLong();

  /** Large buffers by power of two: index = log2(capacity) - 20. */
  private final List<Queue<ByteBuffer>> largeFree = new ArrayList<>();

  /**
   * @param smallRetained small buffers kept for reuse at most
   * @param mediumRetained medium buffers kept for reuse at most
   */
  public RequestBufferPool(int smallRetained, int mediumRetained) {
    this(smallRetained, mediumRetained, DEFAULT_LARGE_RETAINED_BYTES);
  }

  /**
   * @param smallRetained small buffers kept for reuse at most
   * @param mediumRetained medium buffers kept for reuse at most
   * @param largeRetainedBytes bytes of large buffers kept for reuse at most
   */
  public RequestBufferPool(int smallRetained, int mediumRetained, long largeRetainedBytes) {
    if (smallRetained < 0 || mediumRetained < 0 || largeRetainedBytes < 0) {
      throw new IllegalArgumentException("retention limits must be >= 0");
    }
    this.largeRetainedBytes = largeRetainedBytes;
    this.small = new ClassStats(smallRetained);
    this.medium = new ClassStats(mediumRetained);
    this.large = new ClassStats(LARGE_RETAINED);
    for (int shift = LARGE_MIN_SHIFT; shift <= MAX_SHIFT; shift++) {
      largeFree.add(new ConcurrentLinkedQueue<>());
    }
  }

  /** The capacity of the buffer {@link #acquire} returns for a request of {@code size} bytes. */
  public static int capacityFor(int size) {
    if (size < 0 || size > (1 << MAX_SHIFT)) {
      throw new IllegalArgumentException(
          "request buffer of " + size + " bytes: must be 0 to " + (1 << MAX_SHIFT));
    }
    if (size <= SMALL) {
      return SMALL;
    }
    if (size <= MEDIUM) {
      return MEDIUM;
    }
    return Math.max(LARGE_MIN, Integer.highestOneBit(size - 1) << 1);
  }

  /** A cleared heap buffer with capacity {@link #capacityFor capacityFor(size)}. */
  public ByteBuffer acquire(int size) {
    final int capacity = capacityFor(size);
    final Queue<ByteBuffer> free = freeList(capacity);
    final ClassStats stats = stats(capacity);
    ByteBuffer buffer = free.poll();
    if (buffer == null) {
      stats.misses.incrementAndGet();
      buffer = ByteBuffer.allocate(capacity);
    } else {
      stats.available.decrementAndGet();
      if (stats == large) {
        largeAvailableBytes.addAndGet(-capacity);
      }
    }
    stats.allocations.incrementAndGet();
    stats.inUse.incrementAndGet();
    stats.inUseBytes.addAndGet(capacity);
    return buffer;
  }

  /** Takes back a buffer from {@link #acquire}; the caller must not touch it afterwards. */
  public void release(ByteBuffer buffer) {
    final int capacity = buffer.capacity();
    if (capacity != capacityFor(Math.min(capacity, 1 << MAX_SHIFT)) || buffer.isDirect()) {
      throw new IllegalArgumentException(
          "a buffer of " + capacity + " bytes did not come from this pool");
    }
    final ClassStats stats = stats(capacity);
    stats.inUse.decrementAndGet();
    stats.inUseBytes.addAndGet(-capacity);
    buffer.clear();
    if (stats.available.incrementAndGet() <= stats.retained && fitsLargeBytes(stats, capacity)) {
      freeList(capacity).offer(buffer);
    } else {
      stats.available.decrementAndGet();
      stats.dropped.incrementAndGet();
    }
  }

  /** Reserves room for a returned large buffer within the byte bound; other classes always fit. */
  private boolean fitsLargeBytes(ClassStats stats, int capacity) {
    if (stats != large) {
      return true;
    }
    if (largeAvailableBytes.addAndGet(capacity) <= largeRetainedBytes) {
      return true;
    }
    largeAvailableBytes.addAndGet(-capacity);
    return false;
  }

  private Queue<ByteBuffer> freeList(int capacity) {
    if (capacity == SMALL) {
      return smallFree;
    }
    if (capacity == MEDIUM) {
      return mediumFree;
    }
    return largeFree.get(Integer.numberOfTrailingZeros(capacity) - LARGE_MIN_SHIFT);
  }

  private ClassStats stats(int capacity) {
    return capacity == SMALL ? small : capacity == MEDIUM ? medium : large;
  }

  private ClassStats stats(SizeClass sizeClass) {
    return switch (sizeClass) {
      case SMALL -> small;
      case MEDIUM -> medium;
      case LARGE -> large;
    };
  }

  /** Buffers of the class handed out and not yet released. */
  public long inUse(SizeClass sizeClass) {
    return stats(sizeClass).inUse.get();
  }

  /** Bytes of the class's buffers handed out and not yet released. */
  public long inUseBytes(SizeClass sizeClass) {
    return stats(sizeClass).inUseBytes.get();
  }

  /** Buffers of the class waiting for reuse; never above the class's retention limit. */
  public int available(SizeClass sizeClass) {
    return stats(sizeClass).available.get();
  }

  /** Bytes of large buffers waiting for reuse; never above the large byte bound. */
  public long largeAvailableBytes() {
    return largeAvailableBytes.get();
  }

  /** Acquisitions from the class since start. */
  public long allocations(SizeClass sizeClass) {
    return stats(sizeClass).allocations.get();
  }

  /** Acquisitions that found the class empty and allocated a new buffer. */
  public long misses(SizeClass sizeClass) {
    return stats(sizeClass).misses.get();
  }

  /** Released buffers dropped because the class already retained its limit. */
  public long dropped(SizeClass sizeClass) {
    return stats(sizeClass).dropped.get();
  }

  /**
   * Registers, per class ({@code class=small|medium|large}): {@code
   * memory.request_pool.in_use[class=…]} (buffers), {@code .in_use.bytes}, {@code .available}
   * (buffers), {@code .allocations}, {@code .misses}, {@code .dropped}.
   */
  public void registerMetrics(MetricRegistry registry) {
    for (SizeClass c : SizeClass.values()) {
      final String tag = "[class=" + c.tag() + "]";
      registry.gauge("memory.request_pool.in_use" + tag, () -> () -> inUse(c));
      registry.gauge("memory.request_pool.in_use.bytes" + tag, () -> () -> inUseBytes(c));
      registry.gauge("memory.request_pool.available" + tag, () -> () -> available(c));
      registry.gauge("memory.request_pool.allocations" + tag, () -> () -> allocations(c));
      registry.gauge("memory.request_pool.misses" + tag, () -> () -> misses(c));
      registry.gauge("memory.request_pool.dropped" + tag, () -> () -> dropped(c));
    }
  }

  /** Counters of one size class. */
  private static final class ClassStats {
    final int retained;
    final AtomicLong inUse = new AtomicLong();
    final AtomicLong inUseBytes = new AtomicLong();
    final AtomicInteger available = new AtomicInteger();
    final AtomicLong allocations = new AtomicLong();
    final AtomicLong misses = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();

    ClassStats(int retained) {
      this.retained = retained;
    }
  }
}
