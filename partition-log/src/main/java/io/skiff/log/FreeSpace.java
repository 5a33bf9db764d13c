package io.skiff.log;

import java.io.IOException;
import java.nio.file.FileStore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * What a log knows of the usable space of its file system, for the check before each append ({@link
 * SegmentedLog#checkSpaceFor}). Asking the file system ({@code statfs(2)} through {@link
 * FileStore#getUsableSpace}) for every append took 1-1.5 % of a broker's CPU samples at full
 * produce rate, so while the disk is far from full the answer is reused: for at most {@link
 * #REFRESH_NANOS}, less what this log's appends took since. Within {@link #MARGIN_BYTES} of the
 * limit, every check asks the file system again, as if nothing were remembered.
 *
 * <p>Other logs and programs writing to the same file system are not counted in between: they would
 * have to write more than the margin within the refresh interval (over 5 GB a second) for an append
 * to pass that a fresh answer would have refused. Space freed in between (retention, a deleted
 * topic) shows at the next refresh; until then the estimate is low, never high.
 *
 * <p>Thread-safe: the leader's request threads and the state machine check the same log.
 */
final class FreeSpace {
  /** How long an answer of the file system is reused while the disk is far from full. */
  static final long REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /** Usable bytes above a check's need below which every check asks the file system. */
  static final long MARGIN_BYTES = 256L << 20;

  /** Reads the usable bytes of the file system. */
  @FunctionalInterface
  interface UsableSpace {
    long read() throws IOException;
  }

  private final UsableSpace usableSpace;
  private final LongSupplier nanoClock;

  private long usable; // guarded by this: the file system's last answer
  private long readAtNanos; // guarded by this
  private long takenSince; // guarded by this: bytes passed since that answer

  FreeSpace(UsableSpace usableSpace, LongSupplier nanoClock) {
    this.usableSpace = usableSpace;
    this.nanoClock = nanoClock;
  }

  static FreeSpace of(FileStore store) {
    return new FreeSpace(store::getUsableSpace, System::nanoTime);
  }

  /**
   * Counts {@code bytes} as taken if the file system keeps at least {@code reserve} usable bytes
   * after them.
   *
   * @return the usable bytes before these, as far as known; below {@code bytes + reserve} if they
   *     do not fit, and then nothing is counted
   * @throws IOException if the file system cannot tell its usable space
   */
  synchronized long take(int bytes, long reserve) throws IOException {
    final long now = nanoClock.getAsLong();
    long estimate = usable - takenSince;
    // Before the first answer the estimate is 0, inside the margin: the first check reads.
    if (now - readAtNanos >= REFRESH_NANOS || estimate < bytes + reserve + MARGIN_BYTES) {
      usable = usableSpace.read();
      readAtNanos = now;
      takenSince = 0;
      estimate = usable;
    }
    if (estimate >= bytes + reserve) {
      takenSince += bytes;
    }
    return estimate;
  }
}
