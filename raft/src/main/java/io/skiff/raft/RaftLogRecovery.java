package io.skiff.raft;

import io.skiff.log.SegmentedLog;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.statemachine.StateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings back the replicas (of partitions and of the metadata group) whose Raft log failed, without
 * a broker restart.
 *
 * <p>Ratis' log worker stops a group's Raft log for good after one failed write: every later task
 * fails with "Log already failed", so the replica neither follows nor leads again until its Raft
 * server restarts. A disk that filled does this to every replica whose write (the follower's copy
 * of a batch, a Raft log segment, a snapshot) met ENOSPC. Once the data directory has {@link
 * SegmentedLog#MIN_FREE_BYTES} free again, this restarts each such group from its durable state
 * (its Raft log and partition log on disk, recovered as at a broker start: torn tails cut, nothing
 * committed lost), as a broker restart would, and the replica catches up from its leader. A failed
 * replica never acknowledged what it could not write, so nothing acknowledged depends on it. The
 * metadata group's replica restarts the same way: its snapshot and Raft log on disk, then the
 * metadata leader, bring it back, while the broker's {@code MetadataPublisher} keeps the images
 * already published.
 *
 * <p>A log that fails again soon after each restart (an I/O error that free space does not cure) is
 * restarted with a per-group exponential backoff ({@link RestartBackoff}: 1 s after the first
 * failure, then 2, 4 ... 60 s; back to 1 s once the group stayed up for 5 minutes), each step
 * logged once.
 *
 * <p>Thread-safety: {@link #logFailed} may be called from any thread (Ratis' log workers) and only
 * records the first report of a group; backoff, checks and restarts run on one named thread, {@code
 * skiff-raft-log-recovery}, owned and stopped by the {@link RaftNode}.
 */
final class RaftLogRecovery implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftLogRecovery.class);
  private static final long CHECK_MS = 1000;

  /** Restarts one group from its durable state; false if it no longer needs it (gone, replaced). */
  interface Restart {
    boolean restart(RaftGroupId group, StateMachine failed) throws IOException;
  }

  /**
   * A failed Raft log as Ratis first reported it: the group, its name in logs, the state machine of
   * the division whose log failed.
   */
  private record Failure(
      RaftGroupId group, Object name, StateMachine machine, Throwable cause, long atMs) {}

  /** What the recovery thread knows of one group: its backoff and its pending restart. */
  private static final class Group {
    final RestartBackoff backoff = new RestartBackoff();
    StateMachine scheduled; // the failed state machine the restart below is for
    long restartAtMs;
    StateMachine replaced; // the last one restarted away: its late reports are stale
  }

  private final Path dataDir;
  private final Restart restart;
  private final Map<RaftGroupId, Failure> failed = new ConcurrentHashMap<>();
  private final Map<RaftGroupId, Group> groups = new HashMap<>(); // recovery thread only
  private final AtomicLong restarts = new AtomicLong();
  private volatile int backingOff;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "skiff-raft-log-recovery"));
  private boolean waitingForSpaceLogged; // recovery thread only

  RaftLogRecovery(Path dataDir, Restart restart) {
    this.dataDir = dataDir;
    this.restart = restart;
    executor.scheduleWithFixedDelay(this::restartFailed, CHECK_MS, CHECK_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * Ratis reported a failed Raft log write of {@code group}'s division here, whose state machine is
   * {@code machine}; called for every failure. {@code name} names the group in logs.
   */
  void logFailed(RaftGroupId group, Object name, StateMachine machine, Throwable cause) {
    failed.putIfAbsent(group, new Failure(group, name, machine, cause, nowMs()));
  }

  /** Group restarts done since the broker started (a counter). */
  long restarts() {
    return restarts.get();
  }

  /** Replicas (of partitions, of the metadata group) whose Raft log failed (a gauge). */
  int failedCount() {
    return failed.size();
  }

  /**
   * Of {@link #failedCount()}, those whose log failed again soon after a restart, so that their
   * next restart waits longer than the first step of {@link RestartBackoff} (a gauge).
   */
  int backingOffCount() {
    return backingOff;
  }

  private void restartFailed() {
    try {
      checkFailed();
    } catch (RuntimeException e) {
      // Thrown out of here, it would cancel the periodic task: no replica would restart again.
      LOG.error("Raft log recovery check failed; checking again in {} ms", CHECK_MS, e);
    }
  }

  private void checkFailed() {
    final long now = nowMs();
    groups
        .entrySet()
        .removeIf(e -> !failed.containsKey(e.getKey()) && e.getValue().backoff.healthyAt(now));
    if (failed.isEmpty()) {
      backingOff = 0;
      return;
    }
    for (Failure failure : failed.values()) {
      final Group group = groups.computeIfAbsent(failure.group(), k -> new Group());
      if (failure.machine() == group.replaced) {
        failed.remove(failure.group(), failure); // reported while its restart removed it
      } else if (group.scheduled != failure.machine()) {
        schedule(group, failure);
      }
    }
    final boolean space = failed.isEmpty() || enoughSpace();
    int backing = 0;
    for (Failure failure : failed.values()) {
      final Group group = groups.get(failure.group());
      if (group == null || group.scheduled != failure.machine()) {
        continue; // reported since the pass above: the next check schedules it
      }
      if (group.backoff.backingOff()) {
        backing++;
      }
      if (space && now >= group.restartAtMs) {
        restart(group, failure, now);
      }
    }
    backingOff = backing;
  }

  /** Takes the next step of the group's backoff for a new failure, and says so once. */
  private void schedule(Group group, Failure failure) {
    final boolean again = !group.backoff.healthyAt(failure.atMs());
    final long delay = group.backoff.failed(failure.atMs());
    group.scheduled = failure.machine();
    group.restartAtMs = failure.atMs() + delay;
    if (again) {
      LOG.error(
          "{}: the Raft log on this broker failed again ({}) within {} s of its last restart;"
              + " restarting its group from disk in {} s (backing off, at most {} s)",
          failure.name(),
          failure.cause().toString(),
          RestartBackoff.HEALTHY_MS / 1000,
          delay / 1000,
          RestartBackoff.MAX_MS / 1000);
    } else {
      LOG.error(
          "{}: the Raft log on this broker failed ({}); the replica stops until its group restarts"
              + " from disk, in {} s once {} has {} bytes free",
          failure.name(),
          failure.cause().toString(),
          delay / 1000,
          dataDir,
          SegmentedLog.MIN_FREE_BYTES);
    }
  }

  private void restart(Group group, Failure failure, long now) {
    final Object id = failure.name();
    // Out first: the restarted replica's own failure, if any, must find its place free.
    failed.remove(failure.group(), failure);
    group.backoff.restarting(now);
    try {
      if (restart.restart(failure.group(), failure.machine())) {
        restarts.incrementAndGet();
        LOG.info("{}: restarted its Raft group from disk after its log failed", id);
      }
      group.replaced = failure.machine();
    } catch (IOException | RuntimeException e) {
      final long delay = group.backoff.failed(now);
      group.restartAtMs = now + delay;
      failed.putIfAbsent(failure.group(), failure);
      LOG.warn(
          "{}: cannot restart its Raft group yet ({}); retrying in {} s",
          id,
          e.toString(),
          delay / 1000);
    }
  }

  private static long nowMs() {
    return System.nanoTime() / 1_000_000;
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
