package io.skiff.broker.admin;

import com.codahale.metrics.Counter;
import com.codahale.metrics.ExponentiallyDecayingReservoir;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToLongFunction;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationFilter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers gauges for the JVM's and the operating system's view of this process on a {@link
 * MetricRegistry}, and a histogram of GC pauses fed by GC notifications.
 *
 * <pre>
 *   name (Dropwizard)                                    source
 *   ───────────────────────────────────────────────────  ───────────────────────────────────
 *   jvm.memory.used.bytes[area=heap|nonheap]             MemoryMXBean
 *   jvm.memory.committed.bytes[area=heap]                MemoryMXBean
 *   jvm.memory.max.bytes[area=heap]                      MemoryMXBean (-1 when undefined)
 *   jvm.buffer.count[pool=direct|mapped]                 BufferPoolMXBean
 *   jvm.buffer.used.bytes[pool=direct|mapped]            BufferPoolMXBean
 *   jvm.buffer.capacity.bytes[pool=direct|mapped]        BufferPoolMXBean
 *   jvm.threads.live | .daemon | .peak                   ThreadMXBean
 *   process.resident.memory.bytes                        /proc/self/status VmRSS
 *   process.virtual.memory.bytes                         /proc/self/status VmSize
 *   process.page.faults[type=minor|major]                /proc/self/stat fields 10, 12
 *   process.cpu.seconds                                  /proc/self/stat (utime + stime) / 100
 *   process.open.fds                                     entries of /proc/self/fd
 *   process.io.read.bytes                                /proc/self/io read_bytes (from disk)
 *   jvm.gc.pause.ms                  (histogram)         GC notifications, stop-the-world only
 *   jvm.gc.collections[collector=NAME] (counter)         GC notifications, every collector
 *   jvm.gc.reclaimed.bytes             (counter)         GC notifications: used before − after
 * </pre>
 *
 * <p>Gauges read their source on every call, so a scrape sees current values; the {@code /proc}
 * gauges report -1 where there is no {@code /proc} (see {@link ProcSelf}), and the buffer pool
 * gauges -1 when the JVM has no such pool.
 *
 * <p>The GC notification for a collection carries its duration in whole milliseconds, so a pause
 * under 1 ms is recorded as 0. Collectors that report concurrent cycles rather than pauses (names
 * containing {@code Cycles} or {@code Concurrent}, e.g. ZGC's {@code ZGC Cycles}, G1's {@code G1
 * Concurrent GC}) are counted but kept out of the pause histogram, whose name promises pauses.
 *
 * <p>Thread-safety: the constructor and {@link #close()} are called by the owner (the broker main);
 * gauges are read from any thread and the histogram and counters are updated from the JVM's
 * notification thread. {@link #close()} removes the notification listeners and every metric this
 * instance registered.
 */
public final class ProcessMetrics implements AutoCloseable {

  /** Name of the GC pause histogram, in milliseconds. */
  public static final String GC_PAUSE_MS = "jvm.gc.pause.ms";

  private static final Logger LOG = LoggerFactory.getLogger(ProcessMetrics.class);

  private final MetricRegistry registry;
  private final List<String> registeredNames = new ArrayList<>();
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener gcListener = this::onGcNotification;
  private final NotificationFilter gcFilter =
      notification ->
          GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(
              notification.getType());
  private final Histogram gcPauses;
  private final Counter gcReclaimed;
  private final Map<String, Counter> collectionsByCollector;

  /**
   * Registers every metric above on {@code registry}.
   *
   * @throws IllegalArgumentException if one of the names is already registered, e.g. by another
   *     {@code ProcessMetrics} on the same registry that was not closed
   */
  public ProcessMetrics(MetricRegistry registry) {
    this(registry, new ProcSelf());
  }

  /** Reads process counters from {@code proc}; tests pass a fixture or a missing directory. */
  ProcessMetrics(MetricRegistry registry, ProcSelf proc) {
    this.registry = registry;
    try {
      registerMemory(ManagementFactory.getMemoryMXBean());
      registerBufferPool("direct");
      registerBufferPool("mapped");
      registerThreads(ManagementFactory.getThreadMXBean());
      registerProc(proc);
      this.gcPauses = register(GC_PAUSE_MS, new Histogram(new ExponentiallyDecayingReservoir()));
      this.gcReclaimed = register("jvm.gc.reclaimed.bytes", new Counter());
      List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
      this.collectionsByCollector = registerCollectionCounters(collectors);
      listenTo(collectors);
    } catch (RuntimeException e) {
      close(); // leave the registry as it was
      throw e;
    }
  }

  private void registerMemory(MemoryMXBean memory) {
    gauge("jvm.memory.used.bytes[area=heap]", () -> memory.getHeapMemoryUsage().getUsed());
    gauge(
        "jvm.memory.committed.bytes[area=heap]", () -> memory.getHeapMemoryUsage().getCommitted());
    gauge("jvm.memory.max.bytes[area=heap]", () -> memory.getHeapMemoryUsage().getMax());
    gauge("jvm.memory.used.bytes[area=nonheap]", () -> memory.getNonHeapMemoryUsage().getUsed());
  }

  private void registerBufferPool(String poolName) {
    Optional<BufferPoolMXBean> pool =
        ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
            .filter(bean -> bean.getName().equals(poolName))
            .findFirst();
    String labels = "[pool=" + poolName + "]";
    gauge("jvm.buffer.count" + labels, poolValue(pool, BufferPoolMXBean::getCount));
    gauge("jvm.buffer.used.bytes" + labels, poolValue(pool, BufferPoolMXBean::getMemoryUsed));
    gauge(
        "jvm.buffer.capacity.bytes" + labels, poolValue(pool, BufferPoolMXBean::getTotalCapacity));
  }

  private static Gauge<Long> poolValue(
      Optional<BufferPoolMXBean> pool, ToLongFunction<BufferPoolMXBean> value) {
    return pool.<Gauge<Long>>map(bean -> () -> value.applyAsLong(bean)).orElse(() -> -1L);
  }

  private void registerThreads(ThreadMXBean threads) {
    gauge("jvm.threads.live", () -> (long) threads.getThreadCount());
    gauge("jvm.threads.daemon", () -> (long) threads.getDaemonThreadCount());
    gauge("jvm.threads.peak", () -> (long) threads.getPeakThreadCount());
  }

  private void registerProc(ProcSelf proc) {
    gauge("process.resident.memory.bytes", () -> proc.statusBytes("VmRSS"));
    gauge("process.virtual.memory.bytes", () -> proc.statusBytes("VmSize"));
    gauge("process.page.faults[type=minor]", () -> proc.statField(ProcSelf.STAT_MINOR_FAULTS));
    gauge("process.page.faults[type=major]", () -> proc.statField(ProcSelf.STAT_MAJOR_FAULTS));
    register("process.cpu.seconds", (Gauge<Double>) proc::cpuSeconds);
    gauge("process.open.fds", proc::openFileDescriptors);
    gauge("process.io.read.bytes", () -> proc.ioCounter("read_bytes"));
  }

  private Map<String, Counter> registerCollectionCounters(List<GarbageCollectorMXBean> collectors) {
    Map<String, Counter> counters = new HashMap<>();
    for (GarbageCollectorMXBean collector : collectors) {
      String name = "jvm.gc.collections[collector=" + collector.getName() + "]";
      counters.put(collector.getName(), register(name, new Counter()));
    }
    return Map.copyOf(counters);
  }

  /** Starts listening only once every counter exists: notifications arrive on another thread. */
  private void listenTo(List<GarbageCollectorMXBean> collectors) {
    for (GarbageCollectorMXBean collector : collectors) {
      if (collector instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(gcListener, gcFilter, null);
        emitters.add(emitter);
      } else {
        LOG.warn(
            "Garbage collector '{}' does not emit notifications; its pauses are not in {}",
            collector.getName(),
            GC_PAUSE_MS);
      }
    }
  }

  private void onGcNotification(Notification notification, Object handback) {
    GarbageCollectionNotificationInfo info =
        GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
    Counter collections = collectionsByCollector.get(info.getGcName());
    if (collections != null) {
      collections.inc();
    }
    if (isPause(info.getGcName())) {
      gcPauses.update(info.getGcInfo().getDuration());
    }
    final long reclaimed = reclaimedBytes(info.getGcInfo());
    if (reclaimed > 0) {
      gcReclaimed.inc(reclaimed);
    }
  }

  /** Bytes in use before the collection minus after it, over every memory pool. */
  static long reclaimedBytes(GcInfo gc) {
    long before = 0;
    long after = 0;
    for (MemoryUsage usage : gc.getMemoryUsageBeforeGc().values()) {
      before += usage.getUsed();
    }
    for (MemoryUsage usage : gc.getMemoryUsageAfterGc().values()) {
      after += usage.getUsed();
    }
    return before - after;
  }

  /** Whether a collector's notifications describe stop-the-world pauses. */
  static boolean isPause(String collectorName) {
    String name = collectorName.toLowerCase(Locale.ROOT);
    return !name.contains("cycles") && !name.contains("concurrent");
  }

  private void gauge(String name, Gauge<Long> gauge) {
    register(name, gauge);
  }

  private <T extends Metric> T register(String name, T metric) {
    T registered = registry.register(name, metric);
    registeredNames.add(name);
    return registered;
  }

  /** Removes the GC notification listeners and every metric registered by this instance. */
  @Override
  public void close() {
    for (NotificationEmitter emitter : emitters) {
      try {
        emitter.removeNotificationListener(gcListener, gcFilter, null);
      } catch (ListenerNotFoundException e) {
        LOG.warn("GC notification listener was already removed from {}", emitter, e);
      }
    }
    emitters.clear();
    registeredNames.forEach(registry::remove);
    registeredNames.clear();
  }
}
