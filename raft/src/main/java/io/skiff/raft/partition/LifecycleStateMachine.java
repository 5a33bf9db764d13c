package io.skiff.raft.partition;

import java.io.IOException;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.function.CheckedRunnable;

/**
 * A Ratis state machine that follows the lifecycle Ratis expects around snapshot installation:
 * running after {@code initialize}, paused by {@link #pause()} while a snapshot is installed,
 * restored from its latest snapshot and running again after {@link #reinitialize()}.
 *
 * <p>Subclasses start up through {@link #startUp} inside their {@code initialize} and say how to
 * restore themselves from their latest snapshot.
 */
public abstract class LifecycleStateMachine extends BaseStateMachine {
  /** Restores in-memory state from the latest snapshot (or the empty state if there is none). */
  protected abstract void restore() throws IOException;

  /** Runs {@code startup} as the transition to RUNNING, as Ratis' own state machines do. */
  protected final void startUp(CheckedRunnable<IOException> startup) throws IOException {
    getLifeCycle().startAndTransition(startup);
  }

  @Override
  public final void pause() {
    getLifeCycle().transition(LifeCycle.State.PAUSING);
    getLifeCycle().transition(LifeCycle.State.PAUSED);
  }

  /**
   * Ratis calls this after installing a snapshot. Skiff's own catch-up has already told the storage
   * of the snapshot it wrote; Ratis' chunked installation (off in Skiff) would have put files in
   * the directory behind its back, so look at the directory once more before restoring.
   */
  @Override
  public final void reinitialize() throws IOException {
    if (getStateMachineStorage() instanceof SnapshotStorage storage) {
      storage.loadLatestSnapshot();
    }
    restore();
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
  }
}
