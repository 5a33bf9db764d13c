package io.skiff.log;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.MappedByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Native memory hints for mapped index files: {@code madvise(MADV_WILLNEED)} to prefetch an index
 * when it is mapped, and {@code mlock}/{@code munlock} to keep the indexes of active segments
 * resident, through libc bound with JNA direct mapping (as Elasticsearch and Cassandra bind {@code
 * mlockall}). The total locked is capped by {@code index.mlock.max.bytes}; a lock that would pass
 * the cap is skipped and counted.
 *
 * <p>Nothing here throws to its caller. Where the hints cannot work (not Linux, JNA or libc not
 * loadable, {@code EPERM}, {@code ENOMEM} from {@code RLIMIT_MEMLOCK}), one warning says what to
 * change and the failing hint turns itself off; the log works the same, only without the hint.
 *
 * <p>Thread-safe: counters are atomics, the cap is reserved with a compare-and-set loop and the
 * on/off switches are volatile. A buffer passed in must stay mapped for the duration of the call,
 * which {@link MappedIndex} ensures by calling under its write lock. Calls happen when an index is
 * mapped, unmapped or resized, never on a lookup or append.
 */
public final class NativeMemory {
  /** Broker property: {@code false} turns every native hint off. */
  public static final String NATIVE_HINTS = "index.native.hints";

  /** Broker property: the most bytes of index mappings kept locked in memory; 0 locks none. */
  public static final String MLOCK_MAX_BYTES = "index.mlock.max.bytes";

  public static final long DEFAULT_MLOCK_MAX_BYTES = 64L * 1024 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(NativeMemory.class);
  private static final int MADV_WILLNEED = 3;
  private static final int EPERM = 1;
  private static final int ENOMEM = 12;
  private static final int EAGAIN = 11;

  private final long mlockMaxBytes;
  private volatile boolean adviseOn;
  private volatile boolean lockOn;
  private final AtomicBoolean adviseWarned = new AtomicBoolean();
  private final AtomicBoolean lockWarned = new AtomicBoolean();
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong lockSkips = new AtomicLong();
  private final AtomicLong lockedBytes = new AtomicLong();

  private NativeMemory(boolean enabled, long mlockMaxBytes) {
    if (mlockMaxBytes < 0) {
      throw new IllegalArgumentException(
          MLOCK_MAX_BYTES + " must be >= 0 but was " + mlockMaxBytes);
    }
    this.mlockMaxBytes = mlockMaxBytes;
    final boolean available = enabled && LibC.available();
    this.adviseOn = available;
    this.lockOn = available && mlockMaxBytes > 0;
  }

  /**
   * Hints on ({@code enabled}) as far as the platform allows, locking at most {@code
   * mlockMaxBytes}.
   *
   * @throws IllegalArgumentException if {@code mlockMaxBytes} is negative
   */
  public static NativeMemory create(boolean enabled, long mlockMaxBytes) {
    return new NativeMemory(enabled, mlockMaxBytes);
  }

  /** Hints on with the default cap of {@value #DEFAULT_MLOCK_MAX_BYTES} bytes locked. */
  public static NativeMemory defaults() {
    return new NativeMemory(true, DEFAULT_MLOCK_MAX_BYTES);
  }

  /** No native call at all. */
  public static NativeMemory disabled() {
    return new NativeMemory(false, 0);
  }

  /**
   * Reads {@value #NATIVE_HINTS} (default true) and {@value #MLOCK_MAX_BYTES} (default 64 MiB).
   *
   * @throws IllegalArgumentException naming the key whose value is malformed
   */
  public static NativeMemory fromProperties(Map<String, String> properties) {
    final String hints = properties.getOrDefault(NATIVE_HINTS, "true").trim();
    if (!hints.equalsIgnoreCase("true") && !hints.equalsIgnoreCase("false")) {
      throw new IllegalArgumentException(
          NATIVE_HINTS + " must be true or false but was '" + hints + "'");
    }
    final String max = properties.get(MLOCK_MAX_BYTES);
    long maxBytes = DEFAULT_MLOCK_MAX_BYTES;
    if (max != null && !max.isBlank()) {
      try {
        maxBytes = Long.parseLong(max.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            MLOCK_MAX_BYTES + " must be a whole number of bytes but was '" + max + "'", e);
      }
    }
    return new NativeMemory(Boolean.parseBoolean(hints), maxBytes);
  }

  /** Whether {@code madvise} is still being called. */
  public boolean adviseEnabled() {
    return adviseOn;
  }

  /** Whether {@code mlock} is still being called. */
  public boolean lockEnabled() {
    return lockOn;
  }

  public long mlockMaxBytes() {
    return mlockMaxBytes;
  }

  /** Native calls made (a counter). */
  public long calls() {
    return calls.get();
  }

  /** Native calls that failed (a counter). */
  public long failures() {
    return failures.get();
  }

  /** Locks not attempted because they would pass {@value #MLOCK_MAX_BYTES} (a counter). */
  public long lockSkips() {
    return lockSkips.get();
  }

  /** Bytes locked right now (a gauge). */
  public long lockedBytes() {
    return lockedBytes.get();
  }

  /** Asks the kernel to read the first {@code length} bytes of {@code buffer} ahead. */
  void willNeed(MappedByteBuffer buffer, long length) {
    if (!adviseOn || length <= 0) {
      return;
    }
    final long address = address(buffer);
    final long aligned = LibC.alignDown(address);
    calls.incrementAndGet();
    final int errno = LibC.advise(aligned, length + (address - aligned), MADV_WILLNEED);
    if (errno != 0) {
      failures.incrementAndGet();
      adviseOn = false;
      warnOnce(
          adviseWarned,
          "madvise(MADV_WILLNEED) of an index mapping failed with errno {}; index prefetch hints"
              + " are off. Set {}=false to silence this.",
          errno,
          NATIVE_HINTS);
    }
  }

  /**
   * Locks the first {@code length} bytes of {@code buffer} in memory if the cap allows.
   *
   * @return the bytes locked, to be passed to {@link #unlock}; 0 if nothing was locked
   */
  long lock(MappedByteBuffer buffer, long length) {
    if (!lockOn || length <= 0) {
      return 0;
    }
    final long address = address(buffer);
    final long aligned = LibC.alignDown(address);
    final long span = length + (address - aligned);
    if (!reserve(span)) {
      lockSkips.incrementAndGet();
      return 0;
    }
    calls.incrementAndGet();
    final int errno = LibC.lock(aligned, span);
    if (errno == 0) {
      return span;
    }
    lockedBytes.addAndGet(-span);
    failures.incrementAndGet();
    if (errno != EAGAIN) {
      lockOn = false;
      warnLockFailed(errno);
    }
    return 0;
  }

  /** Unlocks what {@link #lock} locked; {@code locked} is its return value. */
  void unlock(MappedByteBuffer buffer, long locked) {
    if (locked <= 0) {
      return;
    }
    final long address = LibC.alignDown(address(buffer));
    calls.incrementAndGet();
    if (LibC.unlock(address, locked) != 0) {
      // The unmap that follows releases the lock anyway; only the count is off by one call.
      failures.incrementAndGet();
    }
    lockedBytes.addAndGet(-locked);
  }

  private boolean reserve(long bytes) {
    while (true) {
      final long current = lockedBytes.get();
      if (current + bytes > mlockMaxBytes) {
        return false;
      }
      if (lockedBytes.compareAndSet(current, current + bytes)) {
        return true;
      }
    }
  }

  private static long address(MappedByteBuffer buffer) {
    return Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
  }

  private void warnLockFailed(int errno) {
    final String why =
        errno == ENOMEM || errno == EPERM
            ? "the process may not lock that much memory: raise RLIMIT_MEMLOCK to at least "
                + mlockMaxBytes
                + " bytes (ulimit -l, LimitMEMLOCK= in the systemd unit, memlock in"
                + " /etc/security/limits.conf, or grant CAP_IPC_LOCK)"
            : "unexpected error";
    warnOnce(
        lockWarned,
        "mlock of an active index failed with errno {} ({}); active indexes are no longer locked."
            + " To run without locking and without this warning, set {}=0",
        errno,
        why,
        MLOCK_MAX_BYTES);
  }

  private static void warnOnce(AtomicBoolean warned, String message, Object... args) {
    if (warned.compareAndSet(false, true)) {
      LOG.warn(message, args);
    }
  }
}
