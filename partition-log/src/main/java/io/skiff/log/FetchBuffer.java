package io.skiff.log;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded buffer of fetched record batches between the threads that fetch them and the thread
 * that consumes them (the replica fetcher's applier, a consumer). It holds the memory profile's
 * consumer fetch buffer:
 *
 * <ul>
 *   <li><b>One global byte cap.</b> A fetcher {@linkplain #reserve reserves} the bytes it is about
 *       to ask for before it asks, waiting while the cap is reached, so a response always has room;
 *       what it does not use goes back when it {@linkplain #add adds} the response. A consumed
 *       chunk's bytes return when it is {@linkplain #release released}.
 *   <li><b>Per-partition queues</b> of chunks (whole batches, in fetch order).
 *   <li><b>Adaptive fetch size</b> per partition: a partition whose responses fill what was asked
 *       for has a backlog, and its next fetch asks for twice as much, up to the maximum; otherwise
 *       it asks for twice its rolling average response (an exponentially weighted mean), at least
 *       the minimum. Near-live partitions then reserve little and leave the cap to those catching
 *       up.
 *   <li><b>Round-robin drain</b>: {@link #poll} takes one chunk from each partition with data in
 *       turn, so one busy partition cannot starve the others.
 * </ul>
 *
 * <pre>
 *   fetcher:  reserve(p) ──ask leader for size bytes──▶ add(reservation, batches)
 *   consumer: poll() ──▶ chunk (p, batches) ──append / hand out──▶ release(chunk)
 *   bytes counted from reserve until release; never above maxBytes, but for one batch larger
 *   than the fetch size (see add)
 * </pre>
 *
 * <p>Buffers added are referenced, not copied; the caller must not change them afterwards.
 * Thread-safe: one lock guards all state; waits use its conditions.
 *
 * @param <K> the partition key
 */
public final class FetchBuffer<K> {
  /** Weight of the newest response in a partition's rolling average. */
  private static final double AVERAGE_WEIGHT = 0.2;

  /** Bytes set aside for one fetch of {@code partition}. */
  public record Reservation<K>(K partition, int bytes) {}

  /**
   * Fetched batches of one partition, handed out by {@link #poll}; {@code bytes} is their size as
   * added, which {@link #release} gives back however the buffer's position moved since.
   */
  public record Chunk<K>(K partition, ByteBuffer batches, int bytes) {}

  private final long maxBytes;
  private final int minFetchBytes;
  private final int maxFetchBytes;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition spaceFreed = lock.newCondition();
  private final Condition chunkAdded = lock.newCondition();
  private final Map<K, PartitionQueue> partitions = new HashMap<>();
  private final ArrayDeque<K> ready = new ArrayDeque<>(); // partitions with chunks, in turn
  private long usedBytes;
  private long peakBytes;
  private long waits;
  private long oversized;

  /** Per-partition state: queued chunks and fetch sizing. */
  private final class PartitionQueue {
    final ArrayDeque<ByteBuffer> chunks = new ArrayDeque<>();
    long queuedBytes;
    double averageResponse = -1;
    int fetchSize = maxFetchBytes;
  }

  /**
   * @param maxBytes the global cap on reserved and buffered bytes
   * @param minFetchBytes the smallest fetch the adaptive sizing asks for
   * @param maxFetchBytes the largest fetch (e.g. {@code replica.fetch.max.bytes}); at most the cap
   */
  public FetchBuffer(long maxBytes, int minFetchBytes, int maxFetchBytes) {
    if (minFetchBytes <= 0 || maxFetchBytes < minFetchBytes || maxFetchBytes > maxBytes) {
      throw new IllegalArgumentException(
          "fetch buffer needs 0 < min fetch ("
              + minFetchBytes
              + ") <= max fetch ("
              + maxFetchBytes
              + ") <= cap ("
              + maxBytes
              + ")");
    }
    this.maxBytes = maxBytes;
    this.minFetchBytes = minFetchBytes;
    this.maxFetchBytes = maxFetchBytes;
  }

  /** The size the next fetch of {@code partition} should ask for. */
  public int fetchSize(K partition) {
    lock.lock();
    try {
      final PartitionQueue queue = partitions.get(partition);
      return queue == null ? maxFetchBytes : queue.fetchSize;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Sets aside {@link #fetchSize} bytes for a fetch of {@code partition}, waiting up to {@code
   * timeout} for the cap to allow it.
   *
   * @throws TimeoutException if the buffer stayed too full; nothing is reserved then
   */
  public Reservation<K> reserve(K partition, Duration timeout)
      throws InterruptedException, TimeoutException {
    long nanos = timeout.toNanos();
    lock.lock();
    try {
      final int bytes = queue(partition).fetchSize;
      if (usedBytes + bytes > maxBytes) {
        waits++;
      }
      while (usedBytes + bytes > maxBytes) {
        if (nanos <= 0) {
          throw new TimeoutException(
              "fetch buffer full for "
                  + timeout
                  + ": "
                  + usedBytes
                  + " of "
                  + maxBytes
                  + " bytes held; the consumer of fetched batches is not keeping up");
        }
        nanos = spaceFreed.awaitNanos(nanos);
      }
      use(bytes);
      return new Reservation<>(partition, bytes);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues a fetch response under its reservation; the unused part of the reservation is freed. A
   * response may be larger than its reservation only when its first batch alone is (Kafka returns
   * such a batch whole, so fetching always makes progress): the excess is counted at once, without
   * waiting, and the cap is exceeded by at most that one batch.
   */
  public void add(Reservation<K> reservation, ByteBuffer batches) {
    final int bytes = batches.remaining();
    lock.lock();
    try {
      if (bytes > reservation.bytes()) {
        oversized++;
        use(bytes - reservation.bytes());
      } else {
        free(reservation.bytes() - bytes);
      }
      final PartitionQueue queue = queue(reservation.partition());
      resize(queue, bytes, reservation.bytes());
      if (bytes == 0) {
        return;
      }
      if (queue.chunks.isEmpty()) {
        ready.addLast(reservation.partition());
      }
      queue.chunks.addLast(batches);
      queue.queuedBytes += bytes;
      chunkAdded.signal();
    } finally {
      lock.unlock();
    }
  }

  /** Gives back a reservation whose fetch failed. */
  public void cancel(Reservation<K> reservation) {
    lock.lock();
    try {
      free(reservation.bytes());
    } finally {
      lock.unlock();
    }
  }

  /**
   * The next chunk in round-robin order over partitions, waiting up to {@code timeout}; null if
   * none arrived. Its bytes stay counted until {@link #release}.
   */
  public Chunk<K> poll(Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.lock();
    try {
      while (ready.isEmpty()) {
        if (nanos <= 0) {
          return null;
        }
        nanos = chunkAdded.awaitNanos(nanos);
      }
      final K partition = ready.pollFirst();
      final PartitionQueue queue = partitions.get(partition);
      final ByteBuffer batches = queue.chunks.pollFirst();
      queue.queuedBytes -= batches.remaining();
      if (!queue.chunks.isEmpty()) {
        ready.addLast(partition);
      }
      return new Chunk<>(partition, batches, batches.remaining());
    } finally {
      lock.unlock();
    }
  }

  /** Returns a consumed chunk's bytes to the cap. */
  public void release(Chunk<K> chunk) {
    lock.lock();
    try {
      free(chunk.bytes());
    } finally {
      lock.unlock();
    }
  }

  /** Drops a partition's queued chunks and sizing (it stopped being fetched). */
  public void forget(K partition) {
    lock.lock();
    try {
      final PartitionQueue queue = partitions.remove(partition);
      if (queue != null) {
        ready.remove(partition);
        free(queue.queuedBytes);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Bytes reserved or buffered right now (a gauge). */
  public long usedBytes() {
    lock.lock();
    try {
      return usedBytes;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The most ever reserved or buffered at once (a gauge); above the cap only by a batch larger than
   * the fetch size (see {@link #add}).
   */
  public long peakBytes() {
    lock.lock();
    try {
      return peakBytes;
    } finally {
      lock.unlock();
    }
  }

  /** Reservations that had to wait for room (a counter). */
  public long waits() {
    lock.lock();
    try {
      return waits;
    } finally {
      lock.unlock();
    }
  }

  /** Responses larger than their reservation: one batch above the fetch size (a counter). */
  public long oversized() {
    lock.lock();
    try {
      return oversized;
    } finally {
      lock.unlock();
    }
  }

  /** Bytes queued for {@code partition}, not yet polled. */
  public long queuedBytes(K partition) {
    lock.lock();
    try {
      final PartitionQueue queue = partitions.get(partition);
      return queue == null ? 0 : queue.queuedBytes;
    } finally {
      lock.unlock();
    }
  }

  public long maxBytes() {
    return maxBytes;
  }

  private PartitionQueue queue(K partition) {
    return partitions.computeIfAbsent(partition, p -> new PartitionQueue());
  }

  /** A full response means a backlog: ask for more. Otherwise follow the average, with room. */
  private void resize(PartitionQueue queue, int bytes, int asked) {
    queue.averageResponse =
        queue.averageResponse < 0
            ? bytes
            : AVERAGE_WEIGHT * bytes + (1 - AVERAGE_WEIGHT) * queue.averageResponse;
    final long next =
        bytes >= asked * 0.9 ? 2L * asked : (long) Math.ceil(2 * queue.averageResponse);
    queue.fetchSize = (int) Math.max(minFetchBytes, Math.min(maxFetchBytes, next));
  }

  private void use(long bytes) {
    usedBytes += bytes;
    peakBytes = Math.max(peakBytes, usedBytes);
  }

  private void free(long bytes) {
    if (bytes > 0) {
      usedBytes -= bytes;
      spaceFreed.signalAll();
    }
  }
}
