package io.skiff.raft.partition;

import io.skiff.raft.catchup.ReplicaFetcher;
import java.io.IOException;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.raftlog.RaftLogIOException;

/**
 * The lowest partition offset a replica's Raft log still refers to: the base offset of the oldest
 * append entry Ratis has not purged. Every entry from there on may still be sent to a lagging
 * follower, and the leader reads its batches back from the partition log ({@code DataApi.read}), so
 * retention must not delete a segment at or above this floor. Below it, a follower is told to
 * install a snapshot and copies what the leader still has through the {@link ReplicaFetcher}.
 *
 * <p>The floor rises as snapshots let Ratis purge its log (every {@code raft.snapshot.entries}
 * entries), so retention lags by at most that many entries. Stateless; reads the Raft log, which is
 * thread-safe.
 */
final class RaftLogFloor {
  /** Entries looked at for the first append; past it, retention waits for the next purge. */
  private static final int MAX_SCAN = 1024;

  private RaftLogFloor() {}

  /**
   * @param raftLog the replica's Raft log
   * @param unreferenced returned when no entry in the Raft log holds batches (the high watermark)
   * @param unknown returned when none was found within the first entries looked at
   */
  static long of(RaftLog raftLog, long unreferenced, long unknown) throws IOException {
    final TermIndex last = raftLog.getLastEntryTermIndex();
    if (last == null) {
      return unreferenced;
    }
    final long start = raftLog.getStartIndex();
    final long end = Math.min(last.getIndex(), start + MAX_SCAN - 1);
    for (long index = start; index <= end; index++) {
      final LogEntryProto entry;
      try {
        entry = raftLog.get(index);
      } catch (RaftLogIOException e) {
        throw new IOException("cannot read Raft log entry " + index + ": " + e.getMessage(), e);
      }
      if (entry == null || !entry.hasStateMachineLogEntry()) {
        continue; // purged meanwhile, or a configuration or metadata entry
      }
      final EntryHeader header = EntryHeader.read(entry.getStateMachineLogEntry().getLogData());
      if (header != null) {
        return header.baseOffset();
      }
    }
    return end == last.getIndex() ? unreferenced : unknown;
  }
}
