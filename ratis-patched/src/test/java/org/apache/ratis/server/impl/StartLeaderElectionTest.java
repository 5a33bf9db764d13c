package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Checks Skiff's Ratis patch {@code RaftServer.Division#startLeaderElection}: with election
 * timeouts of ten minutes, so that no timer elects anyone during the test, a follower asked to
 * stand becomes leader at once, a leader refuses, and after the leader's server is closed a
 * follower asked to stand takes over (its log is as up-to-date as the other survivor's) and the
 * group commits writes again, all well inside one election timeout.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StartLeaderElectionTest {
  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();
  private LoopbackGroup servers;

  @Test
  void aFollowerAskedToStandLeadsAndTakesOverFromAClosedLeader() throws Exception {
    servers = groups.start(3, LoopbackGroup::electionsOnRequestOnly, AcceptingStateMachine::new);
    final List<RaftServer> all = servers.servers();
    final RaftServer.Division first = servers.division(all.get(0));
    assertThat(servers.division(all.get(1)).getInfo().getCurrentTerm())
        .as("no election without a request")
        .isZero();

    assertThat(first.startLeaderElection()).as("a follower stands").isTrue();
    LoopbackGroup.awaitLeaderReady(first);
    assertThat(first.startLeaderElection()).as("a leader does not stand").isFalse();
    servers.writeAll(3, 3, 1);
    final long term = first.getInfo().getCurrentTerm();
    // A write is answered once a majority has it: wait until both followers have everything, or
    // the one that stands below may lag the other, which then refuses it its vote (a correct
    // refusal; with elections on request only nobody would stand again).
    awaitLastIndexOnEveryServer(first.getRaftLog().getLastEntryTermIndex().getIndex());

    all.get(0).close();
    final RaftServer.Division second = servers.division(all.get(1));
    assertThat(second.getInfo().isFollower()).as("a survivor is still a follower").isTrue();
    assertThat(second.startLeaderElection()).as("a survivor stands").isTrue();
    LoopbackGroup.awaitLeaderReady(second);
    assertThat(second.getInfo().getCurrentTerm()).as("term").isGreaterThan(term);
    servers.writeAll(3, 3, 1);
  }

  private void awaitLastIndexOnEveryServer(long index) throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    for (RaftServer server : servers.servers()) {
      final RaftServer.Division division = servers.division(server);
      while (division.getRaftLog().getLastEntryTermIndex().getIndex() < index) {
        assertThat(System.nanoTime())
            .as("%s has index %d within 20 s", division.getMemberId(), index)
            .isLessThan(deadline);
        Thread.sleep(20);
      }
    }
  }
}
