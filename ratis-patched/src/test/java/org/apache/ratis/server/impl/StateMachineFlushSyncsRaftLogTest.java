package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.metrics.impl.DefaultTimekeeperImpl;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.raftlog.segmented.SegmentFiles;
import org.apache.ratis.server.raftlog.segmented.SegmentedRaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checks Skiff's Ratis patch 0014 ({@code StateMachine.DataApi#flushSyncsRaftLog}): when the state
 * machine says its flush makes the Raft log durable too, the log worker writes every entry up to
 * the flushed index into the log file before it calls the state machine's flush (so a syncfs there
 * covers it) and never syncs the log file itself; otherwise (Ratis' default) it syncs the file
 * after each flush. Either way every write is answered and a restarted server has every entry.
 * Three real servers over gRPC, virtual division threads, as Skiff runs them.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StateMachineFlushSyncsRaftLogTest {
  private static final int WRITES = 300;
  private static final int IN_FLIGHT = 8;

  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();

  @ParameterizedTest(name = "flush syncs the Raft log: {0}")
  @ValueSource(booleans = {true, false})
  void entriesAreInTheLogFileWhenTheStateMachineSyncs(boolean flushSyncsLog) throws Exception {
    final LoopbackGroup servers =
        groups.start(
            3,
            p -> RaftServerConfigKeys.ThreadPool.setVirtual(p, true),
            () -> new SyncingStateMachine(flushSyncsLog));
    servers.writeAll(WRITES / 3, WRITES, IN_FLIGHT);

    long lastApplied = 0;
    for (RaftServer server : servers.servers()) {
      final RaftServer.Division division = servers.division(server);
      final SyncingStateMachine machine = (SyncingStateMachine) division.getStateMachine();
      assertThat(machine.flushes.get()).as("flushes of %s", server.getId()).isPositive();
      final long logSyncs =
          ((DefaultTimekeeperImpl)
                  ((SegmentedRaftLog) division.getRaftLog()).getRaftLogMetrics().getSyncTimer())
              .getTimer()
              .getCount();
      if (flushSyncsLog) {
        assertThat(machine.notInTheFile)
            .as("flushes of %s that found their entries still buffered", server.getId())
            .isEmpty();
        assertThat(logSyncs).as("Raft log file syncs of %s", server.getId()).isZero();
      } else {
        assertThat(logSyncs).as("Raft log file syncs of %s", server.getId()).isPositive();
      }
      lastApplied = Math.max(lastApplied, division.getInfo().getLastAppliedIndex());
    }
    assertThat(lastApplied).as("last applied index").isGreaterThanOrEqualTo(WRITES);

    servers.closeServers();
    for (RaftPeer peer : servers.group().getPeers()) {
      final RaftServer restarted =
          servers.restart(peer.getId(), new SyncingStateMachine(flushSyncsLog));
      final RaftLog log = restarted.getDivision(servers.group().getGroupId()).getRaftLog();
      assertThat(log.getLastEntryTermIndex().getIndex())
          .as("last entry of %s after a restart", peer)
          .isGreaterThanOrEqualTo(WRITES);
      servers.closeServers();
    }
  }

  /**
   * Applies entries and counts flushes; when it claims to sync the Raft log, reads the division's
   * segment files at each flush, as a restart after a crash right then would, and records the
   * flushes whose entry was not there.
   */
  private static final class SyncingStateMachine extends BaseStateMachine
      implements StateMachine.DataApi {
    private final boolean flushSyncsLog;
    private final AtomicLong flushes = new AtomicLong();
    private final Queue<String> notInTheFile = new ConcurrentLinkedQueue<>();
    private volatile RaftStorage storage;

    SyncingStateMachine(boolean flushSyncsLog) {
      this.flushSyncsLog = flushSyncsLog;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
        throws IOException {
      super.initialize(server, groupId, raftStorage);
      this.storage = raftStorage;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      updateLastAppliedTermIndex(trx.getLogEntry().getTerm(), trx.getLogEntry().getIndex());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public StateMachine.DataApi data() {
      return this;
    }

    @Override
    public boolean flushSyncsRaftLog() {
      return flushSyncsLog;
    }

    @Override
    public CompletableFuture<Void> flush(long logIndex) {
      flushes.incrementAndGet();
      if (flushSyncsLog) {
        try {
          final long inFile = SegmentFiles.lastIndexInSegmentFiles(storage);
          if (inFile < logIndex) {
            notInTheFile.add("flush to " + logIndex + " with the file ending at " + inFile);
          }
        } catch (IOException e) {
          notInTheFile.add("flush to " + logIndex + ": " + e);
        }
      }
      return CompletableFuture.completedFuture(null);
    }
  }
}
