package io.skiff.raft;

import io.skiff.log.SegmentedLog;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings back the partition replicas whose Raft log failed, without a broker restart.
 *
 * <p>Ratis' log worker stops a group's Raft log for good after one failed write: every later task
 * fails with "Log already failed", so the replica neither follows nor leads again until its Raft
 * server restarts. A disk that filled does this to every replica whose write (the follower's copy
 * of a batch, a Raft log segment, a snapshot) met ENOSPC. Once the data directory has {@link
 * SegmentedLog#MIN_FREE_BYTES} free again, this restarts each such group from its durable state
 * (its Raft log and partition log on disk, recovered as at a broker start: torn tails cut, nothing
 * committed lost), as a broker restart would, and the replica catches up from its leader. A failed
 * replica never acknowledged what it could not write, so nothing acknowledged depends on it.
 *
 * <p>Thread-safety: {@link #logFailed} may be called from any thread (Ratis' log workers); checks
 * and restarts run on one named thread, {@code skiff-raft-log-recovery}, owned and stopped by the
 * {@link RaftNode}.
 */
final class RaftLogRecovery implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftLogRecovery.class);
  private static final long CHECK_MS = 1000;

  /** Restarts one group from its durable state; false if it no longer needs it (gone, replaced). */
  interface Restart {
    boolean restart(PartitionStateMachine failed) throws IOException;
  }

  private final Path dataDir;
  private final Restart restart;
  private final Map<PartitionId, PartitionStateMachine> failed = new ConcurrentHashMap<>();
  private final AtomicLong restarts = new AtomicLong();
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "skiff-raft-log-recovery"));
  private boolean waitingForSpaceLogged; // recovery thread only

  RaftLogRecovery(Path dataDir, Restart restart) {
    this.dataDir = dataDir;
    this.restart = restart;
    executor.scheduleWithFixedDelay(this::restartFailed, CHECK_MS, CHECK_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * Ratis reported a failed Raft log write of {@code machine}'s group; called for every failure.
   */
  void logFailed(PartitionStateMachine machine, Throwable cause) {
    if (failed.putIfAbsent(machine.partition(), machine) == null) {
      LOG.error(
          "{}: the Raft log on this broker failed ({}); the replica stops until its group restarts"
              + " from disk, which happens once {} has {} bytes free",
          machine.partition(),
          cause.toString(),
          dataDir,
          SegmentedLog.MIN_FREE_BYTES);
    }
  }

  /** Group restarts done since the broker started (a counter). */
  long restarts() {
    return restarts.get();
  }

  /** Partition replicas whose Raft log failed and that wait for their restart (a gauge). */
  int failedCount() {
    return failed.size();
  }

  private void restartFailed() {
    if (failed.isEmpty() || !enoughSpace()) {
      return;
    }
    for (PartitionStateMachine machine : failed.values()) {
      // Out first: the restarted replica's own failure, if any, must find its place free.
      failed.remove(machine.partition(), machine);
      try {
        if (restart.restart(machine)) {
          restarts.incrementAndGet();
          LOG.info("{}: restarted its Raft group from disk after its log failed", machine);
        }
      } catch (IOException | RuntimeException e) {
        failed.putIfAbsent(machine.partition(), machine);
        LOG.warn(
            "{}: cannot restart its Raft group yet ({}); retrying in {} ms",
            machine.partition(),
            e.toString(),
            CHECK_MS);
      }
    }
  }

  private boolean enoughSpace() {
    final long usable;
    try {
      final FileStore store = Files.getFileStore(dataDir);
      usable = store.getUsableSpace();
    } catch (IOException e) {
      LOG.warn("Cannot read the free space of {}: {}", dataDir, e.toString());
      return false;
    }
    final boolean enough = usable >= SegmentedLog.MIN_FREE_BYTES;
    if (!enough && !waitingForSpaceLogged) {
      LOG.warn(
          "{} replicas wait for {} to have {} bytes free (now {}) to restart their Raft groups;"
              + " free space (retention, DeleteRecords, deleting topics)",
          failed.size(),
          dataDir,
          SegmentedLog.MIN_FREE_BYTES,
          usable);
    }
    waitingForSpaceLogged = !enough;
    return enough;
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("Raft log recovery still busy after 10 s; abandoning it");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
