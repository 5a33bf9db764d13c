package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checks Skiff's Ratis patch (raft.server.state-machine.apply.idle-wait): with the state machine
 * updater's idle wait set to an hour, or to zero (no timeout at all, as Skiff runs it: patch 0013),
 * so that only signals wake it, every committed entry is still applied at once, on the leader and
 * on the followers, and the servers close promptly. Released Ratis woke the updater every 100 ms;
 * it could also lose a commit's signal that arrived between its check for new commits and its wait
 * (a window of microseconds, which this test has not been seen to hit), harmless with a 100 ms wait
 * and a stall with a long one. The patch counts signals, so none is lost.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StateMachineApplyWaitTest {
  private static final int ONE_BY_ONE = 300;
  private static final int WRITES = 2000;
  private static final int IN_FLIGHT = 16;

  private final List<CountingStateMachine> machines = new ArrayList<>();
  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();
  private LoopbackGroup servers;

  @ParameterizedTest(name = "idle wait {0} s")
  @ValueSource(longs = {3600, 0})
  void everyCommittedEntryIsAppliedAtOnceWithoutPolling(long idleWaitSeconds) throws Exception {
    final TimeDuration idleWait = TimeDuration.valueOf(idleWaitSeconds, TimeUnit.SECONDS);
    servers =
        groups.start(
            3,
            p -> RaftServerConfigKeys.StateMachineApply.setIdleWait(p, idleWait),
            () -> {
              final CountingStateMachine machine = new CountingStateMachine();
              machines.add(machine);
              return machine;
            });
    // One at a time, then up to IN_FLIGHT at a time so that commits arrive while the updater is
    // busy: a reply comes once the leader applied the entry, so a lost signal would hold it an
    // hour.
    servers.writeAll(ONE_BY_ONE, WRITES, IN_FLIGHT);
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (machines.stream().anyMatch(m -> m.applied() < WRITES) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(machines)
        .as("entries applied by each server")
        .allMatch(m -> m.applied() >= WRITES, "applied all " + WRITES);
    if (idleWaitSeconds == 0) {
      LoopbackGroup.assertIdleDaemonsPark();
    }

    final long closing = System.nanoTime();
    servers.closeServers();
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - closing))
        .as("seconds to close the three servers")
        .isLessThan(30);
  }

  /** Counts the client entries it applied (the leader's configuration entries are not counted). */
  private static final class CountingStateMachine extends BaseStateMachine {
    private final AtomicInteger applied = new AtomicInteger();

    int applied() {
      return applied.get();
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      updateLastAppliedTermIndex(trx.getLogEntry().getTerm(), trx.getLogEntry().getIndex());
      applied.incrementAndGet();
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
  }
}
