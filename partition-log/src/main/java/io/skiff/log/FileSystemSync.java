package io.skiff.log;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit for a broker's data directories: {@link #sync()} returns once one {@code syncfs(2)}
 * of every file system holding them has run from start to end after the call, so everything written
 * to any file there before the call is durable. Calls that arrive while a {@code syncfs} runs share
 * the next one: a broker whose hundreds of partitions flush at once pays one journal commit and one
 * disk cache flush per round, where an {@code fsync} per segment file and per Raft log file paid
 * one each (the classic group commit of databases' write-ahead logs).
 *
 * <p>Rounds run on a platform thread of their own, {@code skiff-syncfs}, which the first caller of
 * a round wakes; every caller waits on a condition, which unmounts a virtual thread. The native
 * call would otherwise pin a virtual caller's carrier for its duration (the JDK compensates its own
 * file I/O, not JNA's): a {@code syncfs} that a busy disk holds for seconds took a carrier from
 * every other virtual thread of the process for that long, and several brokers in one JVM (tests)
 * could hold them all.
 *
 * <p>Rounds can be spaced ({@link #open(Collection, long)}): a round requested within the minimum
 * interval of the previous round's start waits out the rest of it first, and every flush that
 * arrives meanwhile joins that round. Under load each round then covers several flushes (a broker
 * at full produce rate ran one round per 1.3 flushes without a spacing, 70-100 µs of CPU each, and
 * one per 2.6-3 flushes with 2 ms); a flush that finds the disk idle for longer than the interval
 * does not wait at all.
 *
 * <p>{@code syncfs} covers every file on the file system, including other programs' writes; on a
 * broker's own disk that is the broker's. It reports a writeback error of the file system since the
 * last call on the same descriptor (Linux 5.8+), and a failed round fails every caller it covered.
 * Where {@code syncfs} cannot be bound (not Linux, no JNA), {@link #open} returns null and callers
 * fsync each file instead.
 *
 * <p>A descriptor is held for the broker's life, and other code in the process can close it by
 * mistake (a profiler agent's double {@code close} did, in this project's benchmarks): the number
 * then fails with {@code EBADF}, or, worse, is reused for some other file, maybe on another file
 * system, where {@code syncfs} succeeds without syncing the broker's data. So every round first
 * checks ({@code fstat}: device and inode) that each descriptor still refers to its directory; one
 * that does not is opened afresh (the old number is left to whoever owns it now), and that round
 * fails, as any failed {@code syncfs} does.
 *
 * <p>Thread-safe.
 */
public final class FileSystemSync implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FileSystemSync.class);
  private static final int O_RDONLY = 0;
  private static final int O_DIRECTORY = 0x10000;
  private static final int O_CLOEXEC = 0x80000;
  private static final int OPEN_FLAGS = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  private static final int EBADF = 9;

  private final List<Path> dirs;
  private final int[] descriptors; // replaced only by the syncer, see reopen

  /** Device and inode of each directory as opened, if {@link #identified}. */
  private final long[] devices;

  private final long[] inodes;

  /** Whether fstat told every directory's device and inode at open; if not, none is checked. */
  private final boolean identified;

  /** fstat's output, used by the syncer only. */
  private final Memory stat = new Memory(LibC.STAT_BYTES);

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition roundDone = lock.newCondition();
  private final Condition roundRequested = lock.newCondition();
  private final AtomicLong rounds = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();

  /** The least time from one round's start to the next one's; 0: none. */
  private final long minIntervalNanos;

  /** When the last round's syncfs started; guarded by {@link #lock}. */
  private long lastRoundNanos;

  /** The round that has not started: every caller that joins it is covered by its syncfs. */
  private Round next = new Round();

  /** Runs the rounds: a platform thread, so the native call pins no virtual thread's carrier. */
  private final Thread syncer;

  private boolean closed; // guarded by lock

  /** Told each round's {@code syncfs} time, failed rounds included (the syncer calls it). */
  private volatile LongConsumer roundTime = nanos -> {};

  private FileSystemSync(List<Path> dirs, int[] descriptors, long minIntervalNanos) {
    this.dirs = dirs;
    this.descriptors = descriptors;
    this.minIntervalNanos = minIntervalNanos;
    this.lastRoundNanos = System.nanoTime() - minIntervalNanos;
    this.devices = new long[descriptors.length];
    this.inodes = new long[descriptors.length];
    boolean known = true;
    for (int i = 0; i < descriptors.length && known; i++) {
      known = identify(i);
    }
    this.identified = known;
    this.syncer = Thread.ofPlatform().name("skiff-syncfs").daemon().unstarted(this::runRounds);
    syncer.start();
  }

  /** Records the device and inode descriptor i refers to; false if fstat cannot tell. */
  private boolean identify(int i) {
    if (!LibC.stat(descriptors[i], stat)) {
      return false;
    }
    devices[i] = LibC.device(stat);
    inodes[i] = LibC.inode(stat);
    return true;
  }

  /**
   * Opens the file systems of {@code dirs} with rounds run as soon as a flush asks for one.
   *
   * @see #open(Collection, long)
   */
  public static FileSystemSync open(Collection<Path> dirs) throws IOException {
    return open(dirs, 0);
  }

  /**
   * Opens the file systems of {@code dirs}, creating missing directories (one descriptor per
   * distinct file system).
   *
   * @param minIntervalNanos the least time from the start of one round to the start of the next; 0
   *     runs each round as soon as a flush asks for it
   * @return null where {@code syncfs} is not available: callers fsync each file then
   * @throws IOException if a directory cannot be created or opened
   */
  public static FileSystemSync open(Collection<Path> dirs, long minIntervalNanos)
      throws IOException {
    if (minIntervalNanos < 0) {
      throw new IllegalArgumentException("negative interval between syncfs rounds");
    }
    if (!LibC.available()) {
      return null;
    }
    final Set<FileStore> stores = new HashSet<>();
    final List<Path> distinct = new ArrayList<>();
    for (Path dir : dirs) {
      Files.createDirectories(dir);
      if (stores.add(Files.getFileStore(dir))) {
        distinct.add(dir);
      }
    }
    final int[] fds = new int[distinct.size()];
    for (int i = 0; i < fds.length; i++) {
      try {
        fds[i] = LibC.open(distinct.get(i).toString(), OPEN_FLAGS);
      } catch (LastErrorException e) {
        for (int j = 0; j < i; j++) {
          LibC.closeQuietly(fds[j]);
        }
        throw new IOException(
            "cannot open "
                + distinct.get(i)
                + " to sync its file system: errno "
                + e.getErrorCode());
      }
    }
    return new FileSystemSync(List.copyOf(distinct), fds, minIntervalNanos);
  }

  /**
   * Returns once everything written to these file systems before the call is durable.
   *
   * @throws IOException if the {@code syncfs} that covered this call failed, or this is closed
   * @throws InterruptedIOException if interrupted while waiting; the data may or may not be durable
   */
  public void sync() throws IOException {
    requests.incrementAndGet();
    final Round round;
    lock.lock();
    try {
      if (closed) {
        throw closedException();
      }
      round = next;
      if (!round.requested) {
        round.requested = true;
        roundRequested.signal(); // the syncer; later callers of this round need not wake it
      }
      while (!round.done) {
        roundDone.await();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for a sync of " + dirs);
    } finally {
      lock.unlock();
    }
    if (round.failure != null) {
      throw new IOException(round.failure.getMessage(), round.failure);
    }
  }

  /**
   * The syncer's loop: runs each requested round, which callers join until its syncfs starts (after
   * the rest of the minimum interval, if any); once closed, fails the round requested, if any.
   */
  private void runRounds() {
    lock.lock();
    try {
      while (true) {
        while (!closed && !next.requested) {
          roundRequested.awaitUninterruptibly();
        }
        final long start = lastRoundNanos + minIntervalNanos;
        long wait;
        while (!closed && (wait = start - System.nanoTime()) > 0) {
          try {
            roundRequested.awaitNanos(wait); // close signals it
          } catch (InterruptedException e) {
            // Only close stops the syncer: callers would wait for ever without it.
          }
        }
        if (closed) {
          break;
        }
        final Round round = next;
        next = new Round();
        lastRoundNanos = System.nanoTime();
        lock.unlock();
        final long started = System.nanoTime();
        try {
          syncAll();
        } catch (IOException e) {
          round.failure = e;
          LOG.error(
              "syncfs of {} failed; the flushes waiting for it fail: {}", dirs, e.getMessage());
        } catch (RuntimeException | Error e) {
          round.failure = new IOException("syncfs of " + dirs + " failed", e);
          LOG.error("syncfs of {} failed", dirs, e);
        } finally {
          reportRoundTime(System.nanoTime() - started);
          lock.lock();
          rounds.incrementAndGet();
        }
        round.done = true;
        roundDone.signalAll();
      }
      if (next.requested) {
        next.failure = closedException();
        next.done = true;
        roundDone.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Tells the listener; one that throws is logged, never allowed to stop the syncer. */
  private void reportRoundTime(long nanos) {
    try {
      roundTime.accept(nanos);
    } catch (RuntimeException e) {
      LOG.warn("The syncfs round-time listener failed; rounds go on", e);
    }
  }

  private IOException closedException() {
    return new IOException("file system sync of " + dirs + " is closed");
  }

  /** Distinct file systems synced per round. */
  public int fileSystems() {
    return descriptors.length;
  }

  /** Rounds of {@code syncfs} run so far (one call per file system each). */
  public long rounds() {
    return rounds.get();
  }

  /**
   * Tells {@code listener} how long each round's {@code syncfs} calls took, from the first call's
   * start to the last one's return (the wait for the minimum interval is not part of it), on the
   * syncer thread, so it must be quick; it replaces the previous listener.
   */
  public void onRoundTime(LongConsumer listener) {
    this.roundTime = listener;
  }

  /** Calls to {@link #sync()} so far; {@code requests / rounds} is the group size. */
  public long requests() {
    return requests.get();
  }

  private void syncAll() throws IOException {
    for (int i = 0; i < descriptors.length; i++) {
      if (!stillTheDirectory(i)) {
        throw reopen(i);
      }
      try {
        LibC.syncfs(descriptors[i]);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == EBADF) {
          throw reopen(i);
        }
        throw new IOException(
            "syncfs of the file system of " + dirs.get(i) + " failed: errno " + e.getErrorCode());
      }
    }
  }

  /** Whether descriptor i still refers to its directory (assumed where fstat is not available). */
  private boolean stillTheDirectory(int i) {
    return !identified
        || LibC.stat(descriptors[i], stat)
            && LibC.device(stat) == devices[i]
            && LibC.inode(stat) == inodes[i];
  }

  /**
   * Opens directory i afresh in place of a descriptor that no longer refers to it, which is not
   * closed: its number belongs to whatever other code closed it, or to what got the number next.
   *
   * @return the failure of the round that found it
   */
  private IOException reopen(int i) {
    final int lost = descriptors[i];
    String outcome;
    try {
      final int fd = LibC.open(dirs.get(i).toString(), OPEN_FLAGS);
      descriptors[i] = fd;
      if (identified) {
        identify(i);
      }
      outcome = "opened it again as descriptor " + fd;
    } catch (LastErrorException e) {
      outcome =
          "opening it again failed (errno " + e.getErrorCode() + "), the next sync tries again";
    }
    return new IOException(
        "descriptor "
            + lost
            + " of "
            + dirs.get(i)
            + " no longer refers to it (other code in this process closed it); "
            + outcome
            + ". The flushes this round covered fail: their data may not be durable");
  }

  /** The descriptor held for directory i, for tests. */
  int descriptor(int i) {
    lock.lock();
    try {
      return descriptors[i];
    } finally {
      lock.unlock();
    }
  }

  /**
   * Fails the round waiting out the interval, if any, and later calls; waits for a syncfs under
   * way; closes the descriptors.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      roundRequested.signal();
    } finally {
      lock.unlock();
    }
    boolean interrupted = false;
    while (syncer.isAlive()) {
      try {
        syncer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    for (int fd : descriptors) {
      LibC.closeQuietly(fd);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The thread that runs the rounds, for tests. */
  Thread syncer() {
    return syncer;
  }

  /** One {@code syncfs} round and what it answered; guarded by {@link #lock}. */
  private static final class Round {
    boolean requested;
    boolean done;
    IOException failure;
  }
}
