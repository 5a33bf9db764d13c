package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Patch 0011: the leader's gRPC appender to a closed follower, its stream reset and nothing to
 * send, waits for the next heartbeat instead of going round its loop at once. Three real servers on
 * virtual threads, with 10-20 s election timeouts so that heartbeats are 2.5-5 s apart. Released
 * Ratis asked the loop to wait 0 ms or less here (the time left of a 1 ms minimum wait), so that a
 * virtual thread spun on its carrier until the heartbeat fell due.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IdleAppenderWaitTest {

  /** How long the wait is sampled; well inside the 2.5 s before a heartbeat falls due. */
  private static final long SAMPLED_MS = 1_500;

  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();
  private LoopbackGroup servers;

  @Test
  void anAppenderWithoutAStreamAndNothingToSendWaitsForTheHeartbeat() throws Exception {
    servers = groups.start(3, IdleAppenderWaitTest::configure, AcceptingStateMachine::new);
    final List<RaftServer> all = servers.servers();
    final RaftServerImpl leader = (RaftServerImpl) division(all.get(0));
    assertThat(leader.startLeaderElection()).isTrue();
    LoopbackGroup.awaitLeaderReady(leader);
    servers.writeAll(3, 3, 1);

    final RaftPeerId closed = all.get(2).getId();
    final GrpcLogAppender toClosed =
        (GrpcLogAppender)
            leader
                .getRole()
                .getLeaderState()
                .orElseThrow()
                .getLogAppenders()
                .filter(a -> a.getFollowerId().equals(closed))
                .findFirst()
                .orElseThrow();
    all.get(2).close();
    Thread.sleep(300); // the stream to it fails and is reset

    final long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SAMPLED_MS);
    long shortest = Long.MAX_VALUE;
    int samples = 0;
    while (System.nanoTime() < until) {
      shortest = Math.min(shortest, toClosed.getWaitTimeMs());
      samples++;
      Thread.sleep(5);
    }
    assertThat(samples).isPositive();
    assertThat(shortest)
        .as("ms the appender to the closed follower waits between loops, at the shortest")
        .isPositive();
    servers.writeAll(3, 3, 1); // a majority still commits
  }

  private static void configure(RaftProperties p) {
    RaftServerConfigKeys.ThreadPool.setVirtual(p, true);
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(10, TimeUnit.SECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(20, TimeUnit.SECONDS));
  }

  private RaftServer.Division division(RaftServer server) throws IOException {
    return server.getDivision(servers.group().getGroupId());
  }
}
