package io.skiff.chaos;

/**
 * Kills and restarts brokers, whatever runs them: processes on this machine ({@link
 * ProcessCluster}) or containers. {@link KillNemesis} and {@link RollingRestartNemesis} need
 * nothing else.
 *
 * <p>Implementations are thread-safe.
 */
public interface BrokerControl {
  /**
   * Kills broker {@code id} at once ({@code SIGKILL}), with no shutdown; no-op when not running.
   */
  void kill(int id) throws Exception;

  /**
   * Stops broker {@code id} gracefully ({@code SIGTERM}: its shutdown runs) and returns once it has
   * exited; no-op when not running.
   */
  void stop(int id) throws Exception;

  /** Starts broker {@code id} again on its old data; returns once it is ready. */
  void restart(int id) throws Exception;
}
