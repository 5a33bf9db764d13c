package io.skiff.log;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One broker-wide cap on the bytes of index files mapped into memory ({@code
 * max.mapped.index.bytes}). When a mapping pushes the total over the cap, indexes of inactive
 * segments are unmapped, least recently used first, until the total fits again; they are remapped
 * on their next lookup. Indexes of active segments are never unmapped, so the total can stay above
 * the cap when active indexes alone exceed it: {@link #overBudget()} says so, and the operator
 * should raise the cap or host fewer partitions.
 *
 * <p>The budget also carries the {@link NativeMemory} hints its indexes use: prefetch on mapping,
 * {@code mlock} of active indexes up to {@code index.mlock.max.bytes}.
 *
 * <p>Thread-safe. Mapping and unmapping are counted with atomics; an eviction pass runs under this
 * object's monitor and only ever {@code tryLock}s an index, so it cannot deadlock with lookups.
 */
public final class IndexMemoryBudget {
  /** Broker property naming the cap. */
  public static final String MAX_MAPPED_INDEX_BYTES = "max.mapped.index.bytes";

  private final long maxMappedBytes;
  private final NativeMemory nativeMemory;
  private final Set<MappedIndex> indexes = ConcurrentHashMap.newKeySet();
  private final AtomicLong mappedBytes = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();
  private final AtomicLong remaps = new AtomicLong();

  /** A budget whose indexes get the default native hints ({@link NativeMemory#defaults()}). */
  public IndexMemoryBudget(long maxMappedBytes) {
    this(maxMappedBytes, NativeMemory.defaults());
  }

  public IndexMemoryBudget(long maxMappedBytes, NativeMemory nativeMemory) {
    if (maxMappedBytes <= 0) {
      throw new IllegalArgumentException(
          MAX_MAPPED_INDEX_BYTES + " must be > 0 but was " + maxMappedBytes);
    }
    this.maxMappedBytes = maxMappedBytes;
    this.nativeMemory = nativeMemory;
  }

  /**
   * A budget that never evicts and makes no native calls, for tools and tests that open a single
   * log.
   */
  public static IndexMemoryBudget unlimited() {
    return new IndexMemoryBudget(Long.MAX_VALUE, NativeMemory.disabled());
  }

  /** The native hints of this budget's indexes, and their counters. */
  public NativeMemory nativeMemory() {
    return nativeMemory;
  }

  public long maxMappedBytes() {
    return maxMappedBytes;
  }

  /** Bytes of index files mapped right now (a gauge). */
  public long mappedBytes() {
    return mappedBytes.get();
  }

  /** Index files known to this budget, mapped or not (a gauge). */
  public int indexCount() {
    return indexes.size();
  }

  /** Unmaps done to stay within the cap (a counter). */
  public long evictions() {
    return evictions.get();
  }

  /** Remaps of evicted indexes on lookup (a counter); high values mean the cap is too small. */
  public long remaps() {
    return remaps.get();
  }

  /** Whether mapped bytes exceed the cap even after evicting every inactive index it could. */
  public boolean overBudget() {
    return mappedBytes.get() > maxMappedBytes;
  }

  /** Fraction of the cap in use, for tier advice. */
  public double utilisation() {
    return maxMappedBytes == Long.MAX_VALUE ? 0 : (double) mappedBytes.get() / maxMappedBytes;
  }

  void register(MappedIndex index) {
    indexes.add(index);
  }

  void unregister(MappedIndex index, long freedBytes) {
    indexes.remove(index);
    unmapped(freedBytes);
  }

  void mapped(MappedIndex index, long bytes) {
    if (mappedBytes.addAndGet(bytes) > maxMappedBytes) {
      evict(index);
    }
  }

  void remapped(MappedIndex index, long bytes) {
    remaps.incrementAndGet();
    mapped(index, bytes);
  }

  void unmapped(long bytes) {
    if (bytes != 0) {
      mappedBytes.addAndGet(-bytes);
    }
  }

  private synchronized void evict(MappedIndex keep) {
    if (mappedBytes.get() <= maxMappedBytes) {
      return;
    }
    // Snapshot the access times: lookups keep updating them, and a sort over moving keys breaks.
    final List<Candidate> candidates = new ArrayList<>();
    for (MappedIndex index : indexes) {
      if (index != keep && !index.isActive()) {
        candidates.add(new Candidate(index, index.lastAccessNanos()));
      }
    }
    candidates.sort(Comparator.comparingLong(Candidate::lastAccessNanos));
    // Evict down to a low watermark so that a lookup storm near the cap does not run a pass each.
    final long target = maxMappedBytes - maxMappedBytes / 10;
    for (Candidate candidate : candidates) {
      if (mappedBytes.get() <= target) {
        return;
      }
      final long freed = candidate.index().tryUnmap();
      if (freed > 0) {
        unmapped(freed);
        evictions.incrementAndGet();
      }
    }
  }

  private record Candidate(MappedIndex index, long lastAccessNanos) {}
}
