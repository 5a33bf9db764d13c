package io.skiff.broker.group;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.kafka.common.TopicPartition;

/**
 * The committed offsets of the groups this broker coordinates, held in memory (the log of {@code
 * __consumer_offsets} is their durable copy). Bounded by {@code offsets.cache.max.entries} at an
 * estimated {@value #ENTRY_OVERHEAD_BYTES} B per entry plus its metadata string.
 *
 * <p>The bound is enforced at admission: {@link #admits} refuses a commit that would add keys
 * beyond the maximum, and the coordinator then answers COORDINATOR_NOT_AVAILABLE (retriable: the
 * client retries while expiry or group deletions make room) and counts it in {@code
 * offsets.cache.rejected.commits}. Updates of keys already held are always admitted, and nothing is
 * ever evicted to make room: a live offset is only dropped by expiry ({@code
 * offsets.retention.minutes} after its commit, for groups that are Empty), by deletion, or when
 * this broker stops coordinating the group. Commits admitted concurrently and offsets replayed from
 * the log when a partition is loaded may overshoot the maximum by their count.
 *
 * <p>Thread-safe: concurrent maps; the counts are kept with atomics.
 */
public final class OffsetCache {
  /** Estimated heap per entry: map node, key (group, topic, partition) and value objects. */
  public static final int ENTRY_OVERHEAD_BYTES = 200;

  private final int maxEntries;
  private final Map<String, Map<TopicPartition, CommittedOffset>> groups =
      new ConcurrentHashMap<>();
  private final AtomicLong entries = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private final Counter rejected;

  public OffsetCache(int maxEntries, MetricRegistry metrics) {
    this.maxEntries = maxEntries;
    metrics.gauge("offsets.cache.entries", () -> entries::get);
    metrics.gauge("offsets.cache.estimated.bytes", () -> bytes::get);
    metrics.gauge("offsets.cache.max.entries", () -> () -> maxEntries);
    this.rejected = metrics.counter("offsets.cache.rejected.commits");
  }

  /** An entry's estimated heap size. */
  static long estimate(CommittedOffset offset) {
    return ENTRY_OVERHEAD_BYTES + offset.metadata().length();
  }

  /**
   * Whether a commit of {@code partitions} for {@code group} fits: keys already held always do, new
   * keys only while the cache stays within its maximum. Counts a refusal.
   */
  public boolean admits(String group, Collection<TopicPartition> partitions) {
    final Map<TopicPartition, CommittedOffset> held = groups.getOrDefault(group, Map.of());
    long added = 0;
    for (TopicPartition tp : partitions) {
      if (!held.containsKey(tp)) {
        added++;
      }
    }
    if (added == 0 || entries.get() + added <= maxEntries) {
      return true;
    }
    rejected.inc();
    return false;
  }

  public void put(String group, TopicPartition partition, CommittedOffset offset) {
    final CommittedOffset old =
        groups.computeIfAbsent(group, g -> new ConcurrentHashMap<>()).put(partition, offset);
    if (old == null) {
      entries.incrementAndGet();
    } else {
      bytes.addAndGet(-estimate(old));
    }
    bytes.addAndGet(estimate(offset));
  }

  public void remove(String group, TopicPartition partition) {
    final Map<TopicPartition, CommittedOffset> held = groups.get(group);
    if (held == null) {
      return;
    }
    final CommittedOffset old = held.remove(partition);
    if (old != null) {
      entries.decrementAndGet();
      bytes.addAndGet(-estimate(old));
    }
    if (held.isEmpty()) {
      groups.remove(group, held);
    }
  }

  /** Drops every offset of {@code group}. */
  public void removeGroup(String group) {
    final Map<TopicPartition, CommittedOffset> held = groups.remove(group);
    if (held != null) {
      for (CommittedOffset old : held.values()) {
        entries.decrementAndGet();
        bytes.addAndGet(-estimate(old));
      }
    }
  }

  /** A snapshot of the offsets of {@code group} (empty if none). */
  public Map<TopicPartition, CommittedOffset> offsets(String group) {
    final Map<TopicPartition, CommittedOffset> held = groups.get(group);
    return held == null ? Map.of() : Map.copyOf(held);
  }

  public CommittedOffset offset(String group, TopicPartition partition) {
    final Map<TopicPartition, CommittedOffset> held = groups.get(group);
    return held == null ? null : held.get(partition);
  }

  /** An offset of a group, as a key for expiry. */
  public record Key(String group, TopicPartition partition) {}

  /**
   * The offsets committed more than {@code retentionMs} before {@code now} by groups that {@code
   * expirable} accepts (the Empty ones). The caller writes their tombstones, then removes them.
   */
  public List<Key> expired(long now, long retentionMs, Predicate<String> expirable) {
    final List<Key> expired = new ArrayList<>();
    for (Map.Entry<String, Map<TopicPartition, CommittedOffset>> g : groups.entrySet()) {
      if (!expirable.test(g.getKey())) {
        continue;
      }
      for (Map.Entry<TopicPartition, CommittedOffset> e : g.getValue().entrySet()) {
        if (now - e.getValue().commitTimestamp() >= retentionMs) {
          expired.add(new Key(g.getKey(), e.getKey()));
        }
      }
    }
    return expired;
  }

  public long entries() {
    return entries.get();
  }

  public long estimatedBytes() {
    return bytes.get();
  }

  public long rejectedCommits() {
    return rejected.getCount();
  }

  public int maxEntries() {
    return maxEntries;
  }
}
