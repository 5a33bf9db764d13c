package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Patch 0012: a follower that comes back with an uncommitted tail of {@value #TAIL} entries of an
 * old term is brought in line by the new leader in a few AppendEntries, not one per entry of the
 * tail. Three real servers, election timeouts of ten minutes (elections only on request): the
 * leader takes {@value #TAIL} writes alone while both followers are closed, is closed, the
 * followers come back, elect one of them and commit more than the tail, and the old leader comes
 * back as a follower while the other takes over. Released Ratis answered each probe with the
 * previous index, so the leader walked the tail back one entry per reply (about {@value #TAIL}
 * INCONSISTENCY replies); the follower now answers with its commit index + 1.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UncommittedTailTest {
  private static final int TAIL = 80; // below the client's 100 outstanding requests

  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();
  private final Logger divisionLog = (Logger) LoggerFactory.getLogger(RaftServer.Division.class);
  private final ListAppender<ILoggingEvent> replies = new ListAppender<>();
  private LoopbackGroup servers;

  @AfterEach
  void detachLog() {
    divisionLog.detachAppender(replies);
    divisionLog.setLevel(null);
  }

  @Test
  void aFollowerWithAnUncommittedTailCatchesUpInAFewRoundTrips() throws Exception {
    servers = groups.start(3, LoopbackGroup::electionsOnRequestOnly, AcceptingStateMachine::new);
    final List<RaftServer> all = servers.servers();
    final RaftServer.Division first = servers.division(all.get(0));
    assertThat(first.startLeaderElection()).isTrue();
    LoopbackGroup.awaitLeaderReady(first);
    servers.writeAll(3, 10, 1);
    final long committed = first.getRaftLog().getLastCommittedIndex();

    // The leader alone takes writes that can never commit: its followers are closed.
    all.get(1).close();
    all.get(2).close();
    final List<CompletableFuture<RaftClientReply>> alone = new ArrayList<>();
    try (RaftClient client = servers.newClient()) {
      for (int i = 0; i < TAIL; i++) {
        alone.add(client.async().send(Message.valueOf("alone " + i)));
      }
      awaitLastIndexAtLeast(first, committed + TAIL);
      all.get(0).close();
    }
    assertThat(alone).noneMatch(reply -> reply.isDone() && !reply.isCompletedExceptionally());

    // The followers come back and elect one of them, which commits more than the old leader's
    // tail while that one is still down. The old leader comes back, and the other follower takes
    // over at once: its leader state starts with the old leader's next index past the tail's end,
    // as a leader elected after the tail's writer died sees it.
    final RaftPeerId oldLeader = all.get(0).getId();
    final RaftServer.Division second =
        servers.division(servers.restart(all.get(1).getId(), new AcceptingStateMachine()));
    final RaftServer.Division third =
        servers.division(servers.restart(all.get(2).getId(), new AcceptingStateMachine()));
    assertThat(second.startLeaderElection()).isTrue();
    LoopbackGroup.awaitLeaderReady(second);
    servers.writeAll(1, TAIL + 20, 10);

    divisionLog.setLevel(Level.INFO);
    replies.start();
    divisionLog.addAppender(replies);
    final RaftServer.Division back =
        servers.division(servers.restart(oldLeader, new AcceptingStateMachine()));
    assertThat(third.startLeaderElection()).isTrue();
    LoopbackGroup.awaitLeaderReady(third);
    final TermIndex leaderLast = third.getRaftLog().getLastEntryTermIndex();
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    // Caught up: the old leader holds the new leader's last entry (the leader may append more).
    while (!leaderLast.equals(back.getRaftLog().getTermIndex(leaderLast.getIndex()))) {
      assertThat(System.nanoTime()).as("caught up within 60 s").isLessThan(deadline);
      Thread.sleep(20);
    }

    final long inconsistencies =
        replies.list.stream()
            .map(ILoggingEvent::getFormattedMessage)
            .filter(m -> m.startsWith(oldLeader + "@") && m.contains("INCONSISTENCY"))
            .count();
    assertThat(inconsistencies)
        .as("INCONSISTENCY replies before the tail of %d entries was replaced", TAIL)
        .isBetween(1L, 10L);
  }

  private static void awaitLastIndexAtLeast(RaftServer.Division division, long index)
      throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (division.getRaftLog().getLastEntryTermIndex().getIndex() < index) {
      assertThat(System.nanoTime()).as("%s appended alone", division).isLessThan(deadline);
      Thread.sleep(20);
    }
  }
}
