package io.skiff.broker.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads this process's memory, fault, CPU and descriptor counters from Linux {@code /proc/self}.
 *
 * <p>{@code /proc/self/status} has one {@code Key: value kB} line per field; {@code VmRSS} is the
 * resident set, {@code VmSize} the virtual size:
 *
 * <pre>
 *   VmSize:  4716252 kB
 *   VmRSS:    215836 kB
 * </pre>
 *
 * <p>{@code /proc/self/stat} is one line of space-separated fields, numbered from 1 as in {@code
 * proc(5)}. Field 2 is the command name in parentheses and may itself hold spaces and {@code )}, so
 * fields are counted from the last {@code )}:
 *
 * <pre>
 *   1     2             3 4 … 10     11      12     13      14    15
 *   12345 (java main) S 1 … minflt cminflt majflt cmajflt utime stime …
 *                      └─ first field after the last ')' is field 3
 * </pre>
 *
 * <p>{@code /proc/self/io} has one {@code key: value} line per counter; {@code read_bytes} is what
 * this process caused to be fetched from storage (page-cache hits are not in it):
 *
 * <pre>
 *   rchar: 323934931
 *   read_bytes: 81920
 * </pre>
 *
 * <p>Every read goes to the file system, so values are current. A value that cannot be read is
 * {@code -1}: always on systems without {@code /proc} (the only case where -1 is expected), and on
 * an unexpected read or parse failure, which is logged once per instance.
 *
 * <p>Thread-safe: holds no state besides the logged-once flag.
 */
final class ProcSelf {

  /**
   * Kernel clock ticks per second ({@code USER_HZ}) for {@code utime}/{@code stime}: 100 on every
   * mainstream Linux architecture; Java cannot call {@code sysconf(_SC_CLK_TCK)} without native
   * code.
   */
  static final long CLOCK_TICKS_PER_SECOND = 100;

  static final int STAT_MINOR_FAULTS = 10;
  static final int STAT_MAJOR_FAULTS = 12;
  static final int STAT_USER_TICKS = 14;
  static final int STAT_SYSTEM_TICKS = 15;

  private static final Logger LOG = LoggerFactory.getLogger(ProcSelf.class);
  private static final long BYTES_PER_KB = 1024;

  private final Path root;
  private final boolean available;
  private final AtomicBoolean failureLogged = new AtomicBoolean();

  /** Reads the real {@code /proc/self}. */
  ProcSelf() {
    this(Path.of("/proc/self"));
  }

  /** Reads a directory laid out like {@code /proc/self}; used by tests with fixture files. */
  ProcSelf(Path root) {
    this.root = root;
    this.available = Files.isDirectory(root);
  }

  /** Whether the directory exists; when it does not, every read returns -1. */
  boolean available() {
    return available;
  }

  /** Returns a {@code kB} field of {@code status} (e.g. {@code VmRSS}) in bytes, or -1. */
  long statusBytes(String key) {
    if (!available) {
      return -1;
    }
    try {
      String prefix = key + ":";
      for (String line : Files.readAllLines(root.resolve("status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith(prefix)) {
          String[] valueAndUnit = line.substring(prefix.length()).trim().split("\\s+");
          return Long.parseLong(valueAndUnit[0]) * BYTES_PER_KB;
        }
      }
      return -1;
    } catch (IOException | RuntimeException e) {
      logFailureOnce("status " + key, e);
      return -1;
    }
  }

  /** Returns a counter of {@code io} (e.g. {@code read_bytes}), or -1. */
  long ioCounter(String key) {
    if (!available) {
      return -1;
    }
    try {
      String prefix = key + ":";
      for (String line : Files.readAllLines(root.resolve("io"), StandardCharsets.US_ASCII)) {
        if (line.startsWith(prefix)) {
          return Long.parseLong(line.substring(prefix.length()).trim());
        }
      }
      return -1;
    } catch (IOException | RuntimeException e) {
      logFailureOnce("io " + key, e);
      return -1;
    }
  }

  /** Returns numeric field {@code field} (numbered from 1, at least 3) of {@code stat}, or -1. */
  long statField(int field) {
    if (!available) {
      return -1;
    }
    try {
      String stat = Files.readString(root.resolve("stat"), StandardCharsets.US_ASCII);
      String[] afterCommand = stat.substring(stat.lastIndexOf(')') + 1).trim().split("\\s+");
      return Long.parseLong(afterCommand[field - 3]);
    } catch (IOException | RuntimeException e) {
      logFailureOnce("stat field " + field, e);
      return -1;
    }
  }

  /** Returns user plus system CPU time in seconds, or -1. */
  double cpuSeconds() {
    long user = statField(STAT_USER_TICKS);
    long system = statField(STAT_SYSTEM_TICKS);
    if (user < 0 || system < 0) {
      return -1;
    }
    return (double) (user + system) / CLOCK_TICKS_PER_SECOND;
  }

  /**
   * Returns the number of open file descriptors, or -1. Listing {@code fd/} opens a descriptor of
   * its own that shows up in the listing; it is not counted (the JDK's {@code
   * UnixOperatingSystemMXBean} counts the same way).
   */
  long openFileDescriptors() {
    if (!available) {
      return -1;
    }
    long entries = 0;
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(root.resolve("fd"))) {
      for (Path ignored : fds) {
        entries++;
      }
      return entries - 1;
    } catch (IOException | RuntimeException e) {
      logFailureOnce("fd", e);
      return -1;
    }
  }

  private void logFailureOnce(String what, Exception e) {
    if (failureLogged.compareAndSet(false, true)) {
      LOG.warn(
          "Cannot read {} under {}; the process metric reports -1 until it can (logged once)",
          what,
          root,
          e);
    }
  }
}
