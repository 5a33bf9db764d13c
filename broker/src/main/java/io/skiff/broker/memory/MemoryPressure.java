package io.skiff.broker.memory;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import java.util.Locale;
import org.apache.kafka.common.protocol.ApiKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's memory pressure level and what each level does to requests (the memory profile's
 * memory pressure manager).
 *
 * <pre>
 *   level     heap after GC (or direct)   Produce                 Fetch             others
 *   ────────  ─────────────────────────   ──────────────────────  ────────────────  ──────────
 *   NORMAL    &lt; 70 %                      -                       -                 -
 *   WARNING   70 – 85 %                   throttle 10 ms          -                 -
 *   HIGH      85 – 95 %                   throttle 100 ms         max bytes halved  -
 *   CRITICAL  ≥ 95 %                      rejected (retriable)    halved, 500 ms    500 ms
 * </pre>
 *
 * <p>The level is the worse of the heap's (bytes live after the latest GC over {@code -Xmx}) and
 * direct memory's (in use over {@code MaxDirectMemorySize}), read from a {@link MemoryUsageSource}
 * by {@link #refresh}, which the broker calls every second and tests call when they changed the
 * source. A throttle is Kafka's: the response carries {@code throttle_time_ms} where the API has
 * one, and the connection reads no further request for that long after the response (KIP-219).
 *
 * <p>Every level change is logged once, at WARN going up and INFO going down; the gauge {@code
 * memory.pressure.level} (0–3) shows the level, and counters the actions taken.
 *
 * <p>Thread-safety: all methods from any thread; refreshes are serialised, so each change is logged
 * once.
 */
public final class MemoryPressure {
  private static final Logger LOG = LoggerFactory.getLogger(MemoryPressure.class);

  /** Fraction of memory at which WARNING starts. */
  public static final double WARNING_RATIO = 0.70;

  /** Fraction of memory at which HIGH starts. */
  public static final double HIGH_RATIO = 0.85;

  /** Fraction of memory at which CRITICAL starts. */
  public static final double CRITICAL_RATIO = 0.95;

  /** The pressure levels, in increasing order. */
  public enum Level {
    NORMAL,
    WARNING,
    HIGH,
    CRITICAL;

    static Level of(double ratio) {
      if (ratio >= CRITICAL_RATIO) {
        return CRITICAL;
      }
      if (ratio >= HIGH_RATIO) {
        return HIGH;
      }
      return ratio >= WARNING_RATIO ? WARNING : NORMAL;
    }
  }

  /**
   * What to do with one request.
   *
   * @param throttleMs how long the client should back off after the response (0: not at all)
   * @param reject answer with a retriable error instead of handling it
   * @param fetchSizeFactor factor for a fetch's {@code max_bytes} and {@code partition_max_bytes}
   */
  public record Action(int throttleMs, boolean reject, double fetchSizeFactor) {
    public static final Action ACCEPT = new Action(0, false, 1.0);
  }

  private static final Action PRODUCE_WARNING = new Action(10, false, 1.0);
  private static final Action PRODUCE_HIGH = new Action(100, false, 1.0);
  private static final Action PRODUCE_CRITICAL = new Action(0, true, 1.0);
  private static final Action FETCH_HIGH = new Action(0, false, 0.5);
  private static final Action FETCH_CRITICAL = new Action(500, false, 0.5);
  private static final Action OTHER_CRITICAL = new Action(500, false, 1.0);

  private final MemoryUsageSource source;
  private volatile Level level = Level.NORMAL;
  private volatile MemoryUsageSource.MemoryReading lastReading =
      new MemoryUsageSource.MemoryReading(0, 0, 0, 0);
  private final Counter throttled = new Counter();
  private final Counter rejected = new Counter();
  private final Counter fetchesReduced = new Counter();

  public MemoryPressure(MemoryUsageSource source) {
    this.source = source;
  }

  /** Reads the source and moves to the level it shows, logging a change. */
  public synchronized Level refresh() {
    final MemoryUsageSource.MemoryReading reading = source.read();
    lastReading = reading;
    final Level heap = Level.of(reading.heapRatio());
    final Level direct = Level.of(reading.directRatio());
    final Level next = heap.compareTo(direct) >= 0 ? heap : direct;
    final Level previous = level;
    if (next != previous) {
      level = next;
      logChange(previous, next, reading);
    }
    return next;
  }

  private static void logChange(
      Level previous, Level next, MemoryUsageSource.MemoryReading reading) {
    final String usage =
        String.format(
            Locale.ROOT,
            "heap after GC %.1f %% of %.1f MiB, direct %.1f %% of %.1f MiB",
            100 * reading.heapRatio(),
            reading.heapMax() / 1048576.0,
            100 * reading.directRatio(),
            reading.directMax() / 1048576.0);
    if (next.compareTo(previous) > 0) {
      LOG.warn(
          "Memory pressure {} -> {} ({}): {}",
          previous,
          next,
          usage,
          switch (next) {
            case CRITICAL ->
                "produce requests are refused and others throttled until memory is freed; add"
                    + " heap (a larger skiff.tier) or move partitions away";
            case HIGH -> "producers are throttled 100 ms and fetch sizes halved";
            default -> "producers are throttled 10 ms";
          });
    } else {
      LOG.info("Memory pressure {} -> {} ({})", previous, next, usage);
    }
  }

  public Level level() {
    return level;
  }

  /** The reading behind the current level. */
  public MemoryUsageSource.MemoryReading lastReading() {
    return lastReading;
  }

  /** The action for a request of API {@code key} at the current level; counts it if not ACCEPT. */
  public Action actionFor(ApiKeys key) {
    final Action action = policy(level, key);
    if (action.reject()) {
      rejected.inc();
    } else if (action.throttleMs() > 0) {
      throttled.inc();
    }
    if (action.fetchSizeFactor() < 1.0) {
      fetchesReduced.inc();
    }
    return action;
  }

  /** The seed's backpressure table. */
  static Action policy(Level level, ApiKeys key) {
    return switch (level) {
      case NORMAL -> Action.ACCEPT;
      case WARNING -> key == ApiKeys.PRODUCE ? PRODUCE_WARNING : Action.ACCEPT;
      case HIGH ->
          key == ApiKeys.PRODUCE ? PRODUCE_HIGH : key == ApiKeys.FETCH ? FETCH_HIGH : Action.ACCEPT;
      case CRITICAL ->
          key == ApiKeys.PRODUCE
              ? PRODUCE_CRITICAL
              : key == ApiKeys.FETCH ? FETCH_CRITICAL : OTHER_CRITICAL;
    };
  }

  /** Requests answered with a throttle, since start. */
  public long throttledRequests() {
    return throttled.getCount();
  }

  /** Produce requests refused at CRITICAL, since start. */
  public long rejectedRequests() {
    return rejected.getCount();
  }

  /**
   * Registers {@code memory.pressure.level} (0 NORMAL … 3 CRITICAL), {@code
   * memory.pressure.heap.ratio} and {@code .direct.ratio} (of the last reading), and the counters
   * {@code memory.pressure.throttled}, {@code .rejected}, {@code .fetch_reduced}.
   */
  public void registerMetrics(MetricRegistry registry) {
    registry.gauge("memory.pressure.level", () -> () -> level.ordinal());
    registry.gauge("memory.pressure.heap.ratio", () -> () -> lastReading.heapRatio());
    registry.gauge("memory.pressure.direct.ratio", () -> () -> lastReading.directRatio());
    registry.register("memory.pressure.throttled", throttled);
    registry.register("memory.pressure.rejected", rejected);
    registry.register("memory.pressure.fetch_reduced", fetchesReduced);
  }
}
