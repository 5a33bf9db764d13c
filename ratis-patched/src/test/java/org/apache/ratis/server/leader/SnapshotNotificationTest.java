package org.apache.ratis.server.leader;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.function.Function;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.StateMachine;
import org.junit.jupiter.api.Test;

/**
 * Patch 0027: {@link LogAppender#shouldNotifyToInstallSnapshot} on a leader whose log starts at 601
 * (entry 600 purged) and whose latest snapshot ends at 800, so it cannot name the entry before 601.
 * The appender's own decision (a default method) runs on stand-ins for the leader's state: its log,
 * its snapshot and what it knows of the follower.
 */
class SnapshotNotificationTest {
  private static final long LEADER_START = 601;
  private static final long LEADER_NEXT = 2101;

  @Test
  void aFollowerWhoseSnapshotEndsRightBeforeTheLeadersLogIsNotAskedAgain() {
    // It answered ALREADY_INSTALLED at 600: the leader set its snapshot index 600, next index 601.
    assertThat(appender(601, 600).shouldNotifyToInstallSnapshot())
        .as("entries from 601 go without a previous entry")
        .isNull();
  }

  @Test
  void aFollowerThatReportedNoSnapshotIsStillAsked() {
    assertThat(appender(601, 0).shouldNotifyToInstallSnapshot())
        .isEqualTo(TermIndex.valueOf(2, LEADER_START));
  }

  @Test
  void aFollowerBehindTheLeadersLogIsStillAsked() {
    assertThat(appender(500, 499).shouldNotifyToInstallSnapshot())
        .isEqualTo(TermIndex.valueOf(2, LEADER_START));
    assertThat(appender(601, 550).shouldNotifyToInstallSnapshot())
        .as("its snapshot ends before 600, which the leader no longer has")
        .isEqualTo(TermIndex.valueOf(2, LEADER_START));
  }

  @Test
  void aFollowerTheLeaderCanNameThePreviousEntryForIsNotAsked() {
    assertThat(appender(602, 0).shouldNotifyToInstallSnapshot()).isNull();
  }

  /** An appender of the leader described above, for a follower at these indices. */
  private static LogAppender appender(long followerNext, long followerSnapshot) {
    final FollowerInfo follower =
        stub(
            FollowerInfo.class,
            Map.of(
                "getNextIndex", args -> followerNext,
                "getSnapshotIndex", args -> followerSnapshot,
                "hasAttemptedToInstallSnapshot", args -> true));
    final LeaderState leaderState =
        stub(LeaderState.class, Map.of("isFollowerBootstrapping", args -> false));
    final RaftLog log =
        stub(
            RaftLog.class,
            Map.of(
                "getStartIndex", args -> LEADER_START,
                "getNextIndex", args -> LEADER_NEXT,
                "getTermIndex",
                    args -> {
                      final long index = (Long) args[0];
                      return index >= LEADER_START && index < LEADER_NEXT
                          ? TermIndex.valueOf(2, index)
                          : null;
                    }));
    final SnapshotInfo snapshot =
        stub(SnapshotInfo.class, Map.of("getTermIndex", args -> TermIndex.valueOf(2, 800)));
    final StateMachine machine =
        stub(StateMachine.class, Map.of("getLatestSnapshot", args -> snapshot));
    final RaftServer.Division server =
        stub(RaftServer.Division.class, Map.of("getStateMachine", args -> machine));
    return stub(
        LogAppender.class,
        Map.of(
            "getFollower", args -> follower,
            "getLeaderState", args -> leaderState,
            "getRaftLog", args -> log,
            "getServer", args -> server));
  }

  /** An implementation of {@code type} answering the named methods; its default methods run. */
  private static <T> T stub(Class<T> type, Map<String, Function<Object[], Object>> answers) {
    final InvocationHandler handler =
        (proxy, method, args) -> {
          final Function<Object[], Object> answer = answers.get(method.getName());
          if (answer != null) {
            return answer.apply(args);
          }
          if (method.isDefault()) {
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          if (method.getName().equals("toString")) {
            return type.getSimpleName();
          }
          throw new UnsupportedOperationException(type.getSimpleName() + "." + method.getName());
        };
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
  }
}
