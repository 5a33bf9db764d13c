package io.skiff.raft.partition;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;

/**
 * A group's snapshot directory in Ratis' single-file layout ({@code sm/snapshot.<term>_<index>}
 * with an MD5 beside it, {@link SimpleStateMachineStorage}) that lists the directory once, when the
 * division starts, and from then on knows its latest snapshot from the ones it is told about:
 * whoever writes a snapshot (take, install) calls {@link #updateLatestSnapshot} before Ratis may
 * rely on it.
 *
 * <p>Why: Ratis asks for the latest snapshot on every AppendEntries, on the leader's appenders and
 * on the follower ({@code ServerState.getSnapshotIndex}). {@code SimpleStateMachineStorage}
 * remembers only a snapshot it found, so while a group has none — every young partition — it listed
 * the directory again on each request (1.3–1.9 % of broker CPU under a produce load,
 * docs/benchmarks.md round E). Here "no snapshot yet" is remembered as well.
 *
 * <p>A snapshot that reaches the directory by any other way (Ratis' chunked snapshot installation,
 * which Skiff turns off, or a file copied in by hand) is seen after {@link #loadLatestSnapshot}
 * lists the directory again, which {@link LifecycleStateMachine#reinitialize} does, and on the next
 * start.
 *
 * <p>Thread-safe: the latest snapshot is an atomic reference, read by Ratis' RPC and appender
 * threads, advanced by the group's apply thread and catch-up; it only moves to a higher index.
 */
public final class SnapshotStorage extends SimpleStateMachineStorage {
  private final AtomicReference<SingleFileSnapshotInfo> latest = new AtomicReference<>();

  @Override
  public void init(RaftStorage raftStorage) throws IOException {
    super.init(raftStorage); // sets the directory; its getLatestSnapshot() is this class's
    loadLatestSnapshot();
  }

  /** The latest snapshot known, without touching the disk; null if the group has none. */
  @Override
  public SingleFileSnapshotInfo getLatestSnapshot() {
    return latest.get();
  }

  /**
   * Records a snapshot just written (or found by {@link #loadLatestSnapshot}); an older one than
   * the latest known is ignored.
   *
   * @return the latest snapshot after the update
   */
  @Override
  public SingleFileSnapshotInfo updateLatestSnapshot(SingleFileSnapshotInfo info) {
    if (info == null) {
      return latest.get(); // a listing that found no snapshot leaves what is known
    }
    return latest.updateAndGet(
        previous -> previous == null || info.getIndex() > previous.getIndex() ? info : previous);
  }
}
