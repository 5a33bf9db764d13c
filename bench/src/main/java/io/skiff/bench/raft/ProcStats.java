package io.skiff.bench.raft;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Readers of Linux {@code /proc} and JVM MX beans for the Raft measurement programs. */
final class ProcStats {
  /** USER_HZ: the unit of utime/stime in {@code /proc/<pid>/stat}; 100 on every Linux ABI. */
  static final int CLOCK_TICKS_PER_SECOND = 100;

  private static final Pattern GROUP_ID = Pattern.compile("[0-9A-Fa-f]{12,}");
  private static final Pattern DIGITS = Pattern.compile("\\d+");

  private ProcStats() {}

  /**
   * A field of {@code /proc/self/status} in kB ({@code VmRSS}, {@code VmSize}, ...); -1 if absent.
   */
  static long statusKb(String field) {
    return statusValue(field);
  }

  /** The OS thread count of this process ({@code Threads:} in /proc/self/status). */
  static long osThreads() {
    return statusValue("Threads");
  }

  private static long statusValue(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          final String v = line.substring(field.length() + 1).trim();
          return Long.parseLong(v.split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** utime + stime of this process, in clock ticks. */
  static long cpuTicks() {
    try {
      // Files.readString misreads some /proc files (size 0); readAllLines does not.
      final String stat = String.join(" ", Files.readAllLines(Path.of("/proc/self/stat")));
      // The command name (field 2) is in parentheses and may contain spaces: split after it.
      final String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
      // After the name: field 3 (state) is f[0], so utime (field 14) is f[11], stime f[12].
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** A field of {@code /proc/self/io} ({@code write_bytes}, {@code wchar}, ...); -1 if absent. */
  static long io(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.substring(field.length() + 1).trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /**
   * Bytes written to whole block devices since boot, system-wide (sectors written in {@code
   * /proc/diskstats}, for the devices in {@code /sys/block} other than loop, ram and zram devices).
   * Unlike {@code write_bytes} this is what reached the devices, file-system journal included.
   */
  static long deviceBytesWritten() {
    long bytes = 0;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/diskstats"))) {
        final String[] f = line.trim().split("\\s+");
        final String name = f[2];
        if (name.startsWith("loop") || name.startsWith("ram") || name.startsWith("zram")) {
          continue;
        }
        if (Files.isDirectory(Path.of("/sys/block", name))) {
          bytes += Long.parseLong(f[9]) * 512;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return bytes;
  }

  /** Lines of {@code /proc/self/maps}: the memory mappings (bounded by vm.max_map_count). */
  static long mapCount() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
      return lines.count();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Open file descriptors of this process. */
  static long openFds() {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Bytes used by the JVM buffer pool {@code name} ("direct" or "mapped"); -1 if absent. */
  static long bufferPoolUsed(String name) {
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals(name)) {
        return pool.getMemoryUsed();
      }
    }
    return -1;
  }

  /**
   * Direct memory the gRPC transport's shaded Netty counts itself, which it does only when it
   * allocates without Cleaners; -1 otherwise (then its buffers are in the "direct" pool).
   */
  static long nettyDirectUsed() {
    try {
      final Class<?> c =
          Class.forName("org.apache.ratis.thirdparty.io.netty.util.internal.PlatformDependent");
      return ((Number) c.getMethod("usedDirectMemory").invoke(null)).longValue();
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return -1;
    }
  }

  /**
   * Native Memory Tracking summary of this JVM, committed KB by NMT category ("Java Heap",
   * "Thread", "Other" (direct buffers), ...), through the in-process DiagnosticCommand MBean (no
   * attach); empty unless the JVM runs with {@code -XX:NativeMemoryTracking=summary}.
   */
  static Map<String, Long> nativeMemoryCommittedKb() {
    final Map<String, Long> committed = new java.util.LinkedHashMap<>();
    try {
      final Object out =
          ManagementFactory.getPlatformMBeanServer()
              .invoke(
                  new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"),
                  "vmNativeMemory",
                  new Object[] {new String[] {"summary"}},
                  new String[] {String[].class.getName()});
      final Pattern line =
          Pattern.compile("^-\\s*(.+?)\\s*\\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");
      for (String l : String.valueOf(out).split("\n")) {
        final var m = line.matcher(l.trim());
        if (m.find()) {
          committed.put(m.group(1), Long.parseLong(m.group(3)));
        }
      }
    } catch (Exception e) {
      // NMT off or the MBean is missing: nothing to report
    }
    return committed;
  }

  /** A thread's name with group ids and numbers masked, so threads of one kind share a name. */
  static String threadCategory(String name) {
    return DIGITS.matcher(GROUP_ID.matcher(name).replaceAll("*")).replaceAll("#");
  }

  /** Live JVM threads by category, largest first. */
  static List<Map.Entry<String, Integer>> threadCategories() {
    final Map<String, Integer> counts = new HashMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      counts.merge(threadCategory(t.getName()), 1, Integer::sum);
    }
    final List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(
        Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry::getKey));
    return sorted;
  }

  static long readLong(Path file) {
    try {
      return Long.parseLong(readLine(file));
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** The first line of a (/proc) file, trimmed; "?" if unreadable. */
  static String readLine(Path file) {
    try {
      final List<String> lines = Files.readAllLines(file);
      return lines.isEmpty() ? "" : lines.get(0).trim();
    } catch (IOException e) {
      return "?";
    }
  }
}
