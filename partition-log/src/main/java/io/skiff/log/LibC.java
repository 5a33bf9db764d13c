package io.skiff.log;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The libc calls the log makes outside the JDK ({@code madvise}, {@code mlock}, {@code munlock} for
 * {@link NativeMemory}; {@code open}, {@code syncfs}, {@code close}, {@code fstat} for {@link
 * FileSystemSync}), bound once with JNA direct mapping. {@link #available()} is false where that
 * could not be done (not 64-bit Linux, JNA or libc not loadable), and one message says why; callers
 * then run without the calls. Addresses and {@code size_t} are passed as {@code long}, hence 64-bit
 * only.
 *
 * <p>Thread-safe: bound once when the class initialises, stateless after.
 */
final class LibC {
  private static final Logger LOG = LoggerFactory.getLogger(LibC.class);
  private static final boolean AVAILABLE;
  private static final long PAGE_SIZE;

  static {
    boolean ok = false;
    long pageSize = 4096;
    try {
      if (!Platform.isLinux() || !Platform.is64Bit()) {
        LOG.info(
            "libc calls need 64-bit Linux, this is {} {}: index memory hints are off and each flush"
                + " fsyncs its own files",
            System.getProperty("os.name"),
            System.getProperty("os.arch"));
      } else {
        Native.register(LibC.class, Platform.C_LIBRARY_NAME);
        pageSize = getpagesize();
        ok = true;
      }
    } catch (LinkageError | RuntimeException e) {
      LOG.warn(
          "cannot bind libc through JNA ({}): index memory hints are off and each flush fsyncs its"
              + " own files, a journal commit per file. Check that jna.jar is on the class path and"
              + " that jna.tmpdir (or java.io.tmpdir) is writable and not mounted noexec",
          e.toString());
    }
    AVAILABLE = ok;
    PAGE_SIZE = pageSize;
  }

  private LibC() {}

  static boolean available() {
    return AVAILABLE;
  }

  static long alignDown(long address) {
    return address & -PAGE_SIZE;
  }

  /** {@code madvise}: 0 or the errno of its failure. */
  static int advise(long address, long length, int advice) {
    try {
      return madvise(address, length, advice);
    } catch (LastErrorException e) {
      return e.getErrorCode();
    }
  }

  /** {@code mlock}: 0 or the errno of its failure. */
  static int lock(long address, long length) {
    try {
      return mlock(address, length);
    } catch (LastErrorException e) {
      return e.getErrorCode();
    }
  }

  /** {@code munlock}: 0 or the errno of its failure. */
  static int unlock(long address, long length) {
    try {
      return munlock(address, length);
    } catch (LastErrorException e) {
      return e.getErrorCode();
    }
  }

  /** Closes {@code fd}, logging (at debug) rather than throwing if that fails. */
  static void closeQuietly(int fd) {
    try {
      close(fd);
    } catch (LastErrorException e) {
      LOG.debug("close({}) failed: errno {}", fd, e.getErrorCode());
    }
  }

  /**
   * Fills {@code buffer} with {@code fstat(fd)}: then {@link #device(Pointer)} and {@link
   * #inode(Pointer)} read it. False where {@code fstat} is not bound (glibc before 2.33 exports it
   * only as {@code __fxstat}) or the call fails.
   *
   * @param buffer room for a {@code struct stat}, at least {@link #STAT_BYTES}
   */
  static boolean stat(int fd, Pointer buffer) {
    if (!Stat.AVAILABLE) {
      return false;
    }
    try {
      Stat.fstat(fd, buffer);
      return true;
    } catch (LastErrorException e) {
      return false;
    }
  }

  // struct stat on 64-bit Linux (x86_64, and the generic layout of aarch64 and riscv64) starts with
  // dev_t st_dev and ino_t st_ino, 8 bytes each.

  static long device(Pointer stat) {
    return stat.getLong(0);
  }

  static long inode(Pointer stat) {
    return stat.getLong(8);
  }

  /**
   * Bytes that hold a {@code struct stat} on every 64-bit Linux (144 on x86_64, 128 on aarch64).
   */
  static final int STAT_BYTES = 256;

  /** {@code fstat}, bound apart from the rest so that a libc without it only loses this check. */
  private static final class Stat {
    static final boolean AVAILABLE;

    static {
      boolean ok = false;
      if (LibC.AVAILABLE) {
        try {
          Native.register(Stat.class, Platform.C_LIBRARY_NAME);
          ok = true;
        } catch (LinkageError | RuntimeException e) {
          LOG.info(
              "libc has no fstat ({}): a data directory descriptor closed by other code in the"
                  + " process is noticed only when syncfs fails on it",
              e.toString());
        }
      }
      AVAILABLE = ok;
    }

    private Stat() {}

    static native int fstat(int fd, Pointer buffer) throws LastErrorException;
  }

  static native int open(String path, int flags) throws LastErrorException;

  static native int syncfs(int fd) throws LastErrorException;

  private static native int close(int fd) throws LastErrorException;

  private static native int getpagesize();

  private static native int madvise(long address, long length, int advice)
      throws LastErrorException;

  private static native int mlock(long address, long length) throws LastErrorException;

  private static native int munlock(long address, long length) throws LastErrorException;
}
