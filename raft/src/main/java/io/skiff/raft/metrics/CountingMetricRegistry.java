package io.skiff.raft.metrics;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.apache.ratis.metrics.LongCounter;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;

/**
 * One Ratis metric registry (one component of one division, e.g. {@code server} of {@code
 * broker-1@group-…}) as Skiff keeps it: counters on {@link LongAdder}s, timers that count and sum
 * ({@link CountingTimer}), gauges as the suppliers Ratis hands over. Names are Ratis' short names
 * ({@code clientWriteRequest}, {@code follower_append_entry_latency}, ...). As with Ratis' default
 * registry, asking for a counter or timer by a name returns the one already there, and the first
 * gauge registered under a name stays until it is removed.
 *
 * <p>Thread-safe: concurrent maps; Ratis updates from its RPC, appender and log threads.
 */
public final class CountingMetricRegistry implements RatisMetricRegistry {
  private final MetricRegistryInfo info;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, CountingTimer> timers = new ConcurrentHashMap<>();
  private final Map<String, Supplier<?>> gauges = new ConcurrentHashMap<>();

  public CountingMetricRegistry(MetricRegistryInfo info) {
    this.info = Objects.requireNonNull(info, "info");
  }

  /** The timer of that name; Ratis asks again for some on every request, so look up first. */
  @Override
  public CountingTimer timer(String name) {
    final CountingTimer timer = timers.get(name);
    return timer != null ? timer : timers.computeIfAbsent(name, n -> new CountingTimer());
  }

  @Override
  public LongCounter counter(String name) {
    final Counter counter = counters.get(name);
    return counter != null ? counter : counters.computeIfAbsent(name, n -> new Counter());
  }

  @Override
  public boolean remove(String name) {
    final boolean counter = counters.remove(name) != null;
    final boolean timer = timers.remove(name) != null;
    final boolean gauge = gauges.remove(name) != null;
    return counter || timer || gauge;
  }

  @Override
  public <T> void gauge(String name, Supplier<Supplier<T>> gaugeSupplier) {
    gauges.computeIfAbsent(name, n -> gaugeSupplier.get());
  }

  /** The gauge's current value, or null if no gauge has that name. */
  public Object gaugeValue(String name) {
    final Supplier<?> gauge = gauges.get(name);
    return gauge == null ? null : gauge.get();
  }

  /** The timers registered so far, by short name (a live, unmodifiable view). */
  public Map<String, CountingTimer> timers() {
    return Collections.unmodifiableMap(timers);
  }

  @Override
  public MetricRegistryInfo getMetricRegistryInfo() {
    return info;
  }

  @Override
  public String toString() {
    return "CountingMetricRegistry(" + info + ")";
  }

  /** A Ratis counter on a {@link LongAdder}. */
  private static final class Counter implements LongCounter {
    private final LongAdder value = new LongAdder();

    @Override
    public void inc(long n) {
      value.add(n);
    }

    @Override
    public void dec(long n) {
      value.add(-n);
    }

    @Override
    public long getCount() {
      return value.sum();
    }
  }
}
