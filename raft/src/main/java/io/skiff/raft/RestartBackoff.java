package io.skiff.raft;

/**
 * When a Raft group whose log failed may restart from disk next: an exponential backoff per group,
 * so that a log that fails again right after each restart (an I/O error that space does not cure, a
 * bad sector) is restarted 1, 2, 4 ... 60 s after each failure rather than every second forever.
 *
 * <p>A failure more than {@link #HEALTHY_MS} after the group's last restart starts over at {@link
 * #INITIAL_MS}: the group stayed healthy for a while, so this is a new incident, not the same one
 * again. A pure policy over the times it is given (milliseconds of any monotonic clock).
 *
 * <p>Thread-safety: none; one instance per group, used under its owner's lock.
 */
final class RestartBackoff {
  /** The wait after a first failure, or one after a healthy spell. */
  static final long INITIAL_MS = 1_000;

  /** The longest wait, reached after six quick failures in a row. */
  static final long MAX_MS = 60_000;

  /** How long after its last restart a group counts as healthy again. */
  static final long HEALTHY_MS = 5 * 60_000;

  private boolean restartedBefore;
  private long lastRestartMs;
  private long delayMs;

  /**
   * The group's log failed at {@code nowMs}: the next step of the backoff.
   *
   * @return how long to wait from {@code nowMs} before restarting the group
   */
  long failed(long nowMs) {
    delayMs = healthyAt(nowMs) ? INITIAL_MS : Math.min(MAX_MS, Math.max(INITIAL_MS, delayMs * 2));
    return delayMs;
  }

  /** A restart of the group starts at {@code nowMs} (whether or not it succeeds). */
  void restarting(long nowMs) {
    restartedBefore = true;
    lastRestartMs = nowMs;
  }

  /**
   * Whether at {@code nowMs} the group counts as healthy: never restarted, or last restarted at
   * least {@link #HEALTHY_MS} before. Its next failure then waits {@link #INITIAL_MS} again.
   */
  boolean healthyAt(long nowMs) {
    return !restartedBefore || nowMs - lastRestartMs >= HEALTHY_MS;
  }

  /** Whether the last failure's wait is longer than the first step's: the group keeps failing. */
  boolean backingOff() {
    return delayMs > INITIAL_MS;
  }
}
