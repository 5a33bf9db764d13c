package io.skiff.broker.admin;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.OperatingSystemMXBean;
import java.lang.management.ThreadMXBean;

/**
 * The JVM and process metrics under the names Prometheus' Java client ({@code client_java}) and its
 * dashboards use, without Skiff's {@code skiff_} prefix, appended to {@code /metrics} after the
 * registry's families:
 *
 * <pre>
 *   family                                  type     source
 *   ──────────────────────────────────────  ───────  ──────────────────────────────────────────
 *   process_cpu_seconds_total               counter  /proc/self/stat (utime + stime)
 *   process_start_time_seconds              gauge    RuntimeMXBean, Unix epoch
 *   process_open_fds / process_max_fds      gauge    /proc/self/fd, UnixOperatingSystemMXBean
 *   process_resident_memory_bytes           gauge    /proc/self/status VmRSS
 *   process_virtual_memory_bytes            gauge    /proc/self/status VmSize
 *   jvm_memory_used_bytes{area}             gauge    MemoryMXBean, area="heap"|"nonheap"
 *   jvm_memory_committed_bytes{area}        gauge    MemoryMXBean
 *   jvm_memory_max_bytes{area}              gauge    MemoryMXBean (-1 when undefined)
 *   jvm_buffer_pool_used_bytes{pool}        gauge    BufferPoolMXBean, pool="direct"|"mapped"|…
 *   jvm_buffer_pool_capacity_bytes{pool}    gauge    BufferPoolMXBean
 *   jvm_buffer_pool_used_buffers{pool}      gauge    BufferPoolMXBean
 *   jvm_threads_current / _daemon / _peak   gauge    ThreadMXBean
 *   jvm_classes_currently_loaded            gauge    ClassLoadingMXBean
 *   jvm_gc_collection_seconds{gc}           summary  GarbageCollectorMXBean: _count, _sum
 * </pre>
 *
 * A {@code /proc} value that cannot be read (no {@code /proc}, see {@link ProcSelf}) leaves its
 * family out rather than reporting -1. The {@code skiff_jvm_*} and {@code skiff_process_*} families
 * of {@link ProcessMetrics} stay as they are: the memory-profile dashboards read them.
 *
 * <p>Stateless apart from the {@link ProcSelf} it reads; thread-safe.
 */
public final class StandardJvmMetrics {
  private static final double MILLIS_PER_SECOND = 1000.0;

  private final ProcSelf proc;

  public StandardJvmMetrics() {
    this(new ProcSelf());
  }

  StandardJvmMetrics(ProcSelf proc) {
    this.proc = proc;
  }

  /** Renders every family above in the text format 0.0.4, ending with a newline. */
  public String render() {
    StringBuilder out = new StringBuilder();
    renderProcess(out);
    renderMemory(out);
    renderThreadsAndClasses(out);
    renderGc(out);
    return out.toString();
  }

  private void renderProcess(StringBuilder out) {
    double cpu = proc.cpuSeconds();
    if (cpu >= 0) {
      family(
              out,
              "process_cpu_seconds_total",
              "counter",
              "Total user and system CPU time spent in seconds.")
          .sample(out, "", cpu);
    }
    double start = ManagementFactory.getRuntimeMXBean().getStartTime() / MILLIS_PER_SECOND;
    family(
            out,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.")
        .sample(out, "", start);
    long openFds = proc.openFileDescriptors();
    if (openFds >= 0) {
      family(out, "process_open_fds", "gauge", "Number of open file descriptors.")
          .sample(out, "", openFds);
    }
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof UnixOperatingSystemMXBean unix) {
      family(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.")
          .sample(out, "", unix.getMaxFileDescriptorCount());
    }
    long rss = proc.statusBytes("VmRSS");
    if (rss >= 0) {
      family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
          .sample(out, "", rss);
    }
    long virtual = proc.statusBytes("VmSize");
    if (virtual >= 0) {
      family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.")
          .sample(out, "", virtual);
    }
  }

  private static void renderMemory(StringBuilder out) {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
    Family used =
        family(out, "jvm_memory_used_bytes", "gauge", "Used bytes of a given JVM memory area.");
    used.sample(out, "{area=\"heap\"}", heap.getUsed());
    used.sample(out, "{area=\"nonheap\"}", nonHeap.getUsed());
    Family committed =
        family(
            out,
            "jvm_memory_committed_bytes",
            "gauge",
            "Committed (bytes) of a given JVM memory area.");
    committed.sample(out, "{area=\"heap\"}", heap.getCommitted());
    committed.sample(out, "{area=\"nonheap\"}", nonHeap.getCommitted());
    Family max =
        family(out, "jvm_memory_max_bytes", "gauge", "Max (bytes) of a given JVM memory area.");
    max.sample(out, "{area=\"heap\"}", heap.getMax());
    max.sample(out, "{area=\"nonheap\"}", nonHeap.getMax());
    var pools = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class);
    Family poolUsed =
        family(
            out, "jvm_buffer_pool_used_bytes", "gauge", "Used bytes of a given JVM buffer pool.");
    pools.forEach(p -> poolUsed.sample(out, poolLabel(p), p.getMemoryUsed()));
    Family poolCapacity =
        family(
            out,
            "jvm_buffer_pool_capacity_bytes",
            "gauge",
            "Bytes capacity of a given JVM buffer pool.");
    pools.forEach(p -> poolCapacity.sample(out, poolLabel(p), p.getTotalCapacity()));
    Family poolBuffers =
        family(
            out,
            "jvm_buffer_pool_used_buffers",
            "gauge",
            "Used buffers of a given JVM buffer pool.");
    pools.forEach(p -> poolBuffers.sample(out, poolLabel(p), p.getCount()));
  }

  private static void renderThreadsAndClasses(StringBuilder out) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    family(out, "jvm_threads_current", "gauge", "Current thread count of a JVM.")
        .sample(out, "", threads.getThreadCount());
    family(out, "jvm_threads_daemon", "gauge", "Daemon thread count of a JVM.")
        .sample(out, "", threads.getDaemonThreadCount());
    family(out, "jvm_threads_peak", "gauge", "Peak thread count of a JVM.")
        .sample(out, "", threads.getPeakThreadCount());
    family(
            out,
            "jvm_classes_currently_loaded",
            "gauge",
            "The number of classes that are currently loaded in the JVM.")
        .sample(out, "", ManagementFactory.getClassLoadingMXBean().getLoadedClassCount());
  }

  private static void renderGc(StringBuilder out) {
    family(
        out,
        "jvm_gc_collection_seconds",
        "summary",
        "Time spent in a given JVM garbage collector in seconds.");
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      String label = "{gc=\"" + escape(gc.getName()) + "\"}";
      long count = Math.max(0, gc.getCollectionCount());
      double seconds = Math.max(0, gc.getCollectionTime()) / MILLIS_PER_SECOND;
      out.append("jvm_gc_collection_seconds_count").append(label).append(' ').append(count);
      out.append('\n');
      out.append("jvm_gc_collection_seconds_sum").append(label).append(' ');
      out.append(PrometheusFormat.formatDouble(seconds)).append('\n');
    }
  }

  private static String poolLabel(BufferPoolMXBean pool) {
    return "{pool=\"" + escape(pool.getName()) + "\"}";
  }

  private static String escape(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static Family family(StringBuilder out, String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    return new Family(name);
  }

  /** Writes the samples of one family whose {@code # TYPE} line was just written. */
  private record Family(String name) {
    void sample(StringBuilder out, String labels, long value) {
      out.append(name).append(labels).append(' ').append(value).append('\n');
    }

    void sample(StringBuilder out, String labels, double value) {
      out.append(name).append(labels).append(' ');
      out.append(PrometheusFormat.formatDouble(value)).append('\n');
    }
  }
}
