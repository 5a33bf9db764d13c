package io.skiff.broker.memory;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.HotSpotDiagnosticMXBean;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JVM's memory usage for {@link MemoryPressure}.
 *
 * <p>Heap: the bytes left in the heap pools after the latest collection, from GC notifications
 * ({@code memoryUsageAfterGc} summed over the heap pools); before the first notification, the sum
 * of the heap pools' {@link MemoryPoolMXBean#getCollectionUsage() collection usage}, and while that
 * is still zero (no collection yet) the heap's current usage. Measuring after GC keeps garbage that
 * the next young collection frees from counting as pressure.
 *
 * <p>Direct: the JDK's {@code direct} buffer pool plus Netty's own direct memory counter (Netty
 * allocates without the JDK's bookkeeping when it can), against {@code -XX:MaxDirectMemorySize}
 * (when unset, the JVM uses the heap maximum).
 *
 * <p>Thread-safety: {@link #read} from any thread; notifications arrive on the JVM's notification
 * thread. The creator owns the GC listeners and removes them with {@link #close}.
 */
public final class JvmMemoryUsage implements MemoryUsageSource, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JvmMemoryUsage.class);

  private final Set<String> heapPools;
  private final List<MemoryPoolMXBean> heapPoolBeans;
  private final BufferPoolMXBean directPool;
  private final BufferPoolMXBean mappedPool;
  private final long directMax;
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener listener = this::onGc;
  private volatile long heapAfterGc = -1;

  public JvmMemoryUsage() {
    this.heapPoolBeans =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .toList();
    this.heapPools =
        heapPoolBeans.stream().map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
    this.directPool = bufferPool("direct");
    this.mappedPool = bufferPool("mapped");
    this.directMax = maxDirectMemory();
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(listener, null, null);
        emitters.add(emitter);
      }
    }
  }

  @Override
  public MemoryReading read() {
    final long netty = PlatformDependent.usedDirectMemory();
    final long jdk = directPool == null ? 0 : Math.max(0, directPool.getMemoryUsed());
    return new MemoryReading(
        heapUsedAfterGc(), Runtime.getRuntime().maxMemory(), jdk + Math.max(0, netty), directMax);
  }

  /** Bytes of mapped buffers (the index files), or 0 where the JVM does not say. */
  public long mappedUsed() {
    return mappedPool == null ? 0 : Math.max(0, mappedPool.getMemoryUsed());
  }

  private static BufferPoolMXBean bufferPool(String name) {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(p -> p.getName().equals(name))
        .findFirst()
        .orElse(null);
  }

  private long heapUsedAfterGc() {
    final long notified = heapAfterGc;
    if (notified >= 0) {
      return notified;
    }
    long sum = 0;
    for (MemoryPoolMXBean pool : heapPoolBeans) {
      final MemoryUsage usage = pool.getCollectionUsage();
      sum += usage == null ? 0 : usage.getUsed();
    }
    return sum > 0 ? sum : ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private void onGc(Notification notification, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(
        notification.getType())) {
      return;
    }
    final GarbageCollectionNotificationInfo info =
        GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
    long sum = 0;
    for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(e.getKey())) {
        sum += e.getValue().getUsed();
      }
    }
    heapAfterGc = sum;
  }

  private static long maxDirectMemory() {
    try {
      final HotSpotDiagnosticMXBean hotspot =
          ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      final long configured = Long.parseLong(hotspot.getVMOption("MaxDirectMemorySize").getValue());
      return configured > 0 ? configured : Runtime.getRuntime().maxMemory();
    } catch (RuntimeException e) {
      LOG.warn("Cannot read MaxDirectMemorySize ({}); using the heap maximum", e.toString());
      return Runtime.getRuntime().maxMemory();
    }
  }

  @Override
  public void close() {
    for (NotificationEmitter emitter : emitters) {
      try {
        emitter.removeNotificationListener(listener);
      } catch (ListenerNotFoundException e) {
        LOG.debug("GC listener already removed", e);
      }
    }
    emitters.clear();
  }
}
