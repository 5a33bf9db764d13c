package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Patch 0025: a leader's event processor on a virtual thread keeps its wait's timeout on a timing
 * wheel, and that timeout is what runs its leadership check when no event arrives. Three real
 * servers on virtual threads with 0.5-1 s election timeouts: a leader whose followers are gone
 * receives no event and steps down; one that keeps its followers stays leader through idle waits.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LeaderStepDownTimeoutTest {
  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();

  @Test
  void aLeaderWithoutFollowersStepsDownAndOneWithThemStays() throws Exception {
    final LoopbackGroup servers =
        groups.start(3, LeaderStepDownTimeoutTest::configure, AcceptingStateMachine::new);
    final List<RaftServer> all = servers.servers();
    final RaftServerImpl leader =
        (RaftServerImpl) all.get(0).getDivision(servers.group().getGroupId());
    assertThat(leader.startLeaderElection()).isTrue();
    LoopbackGroup.awaitLeaderReady(leader);
    servers.writeAll(3, 3, 1);

    Thread.sleep(3_000); // idle waits of the event processor, each ending in a check
    assertThat(leader.getInfo().isLeader()).as("leader with its followers").isTrue();

    all.get(1).close();
    all.get(2).close();
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (leader.getInfo().isLeader() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(leader.getInfo().isLeader()).as("leader without its followers").isFalse();
  }

  private static void configure(RaftProperties p) {
    RaftServerConfigKeys.ThreadPool.setVirtual(p, true);
  }
}
