package io.skiff.broker.group;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The classic group state machine, driven by an explicit clock (the {@code now} arguments). */
@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ClassicGroupTest {
  private static final int SESSION_MS = 6000;
  private static final int REBALANCE_MS = 10_000;

  /** The initial rebalance delay that lets the members joined at one instant share a generation. */
  private static final int DELAY_MS = 100;

  private final List<GroupMetadata> stored = new ArrayList<>();
  private CompletableFuture<Errors> storeResult = CompletableFuture.completedFuture(Errors.NONE);

  private ClassicGroup group(int initialDelayMs) {
    final GroupConfig config =
        new GroupConfig(3, (short) 3, initialDelayMs, 1000, 60_000, 86_400_000L, 1000, 5000);
    return new ClassicGroup(
        "g",
        config,
        (id, metadata) -> {
          stored.add(metadata);
          return storeResult;
        });
  }

  private static JoinRequest join(String memberId, String instanceId, String subscription) {
    return new JoinRequest(
        memberId,
        instanceId,
        "client",
        "/127.0.0.1",
        SESSION_MS,
        REBALANCE_MS,
        "consumer",
        List.of(new JoinRequest.Protocol("range", subscription.getBytes())),
        false);
  }

  /**
   * A join of a member without an id yet (client "c" on host "h"), offering one assignor {@code
   * protocol} with empty metadata.
   */
  private static JoinRequest newMemberJoin(
      int sessionMs, String protocol, boolean requireKnownMemberId) {
    return new JoinRequest(
        "",
        null,
        "c",
        "h",
        sessionMs,
        REBALANCE_MS,
        "consumer",
        List.of(new JoinRequest.Protocol(protocol, new byte[0])),
        requireKnownMemberId);
  }

  /**
   * Joins {@code count} dynamic members at {@code now}; the rebalance completes after the delay.
   */
  private static List<JoinGroupResponseData> joinAll(ClassicGroup group, int count, long now) {
    final List<CompletableFuture<JoinGroupResponseData>> futures = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      futures.add(group.join(join("", null, "s"), now));
    }
    group.tick(now + DELAY_MS);
    return futures.stream().map(CompletableFuture::join).toList();
  }

  private static Map<String, byte[]> assignments(List<JoinGroupResponseData> joined) {
    final Map<String, byte[]> assignments = new java.util.HashMap<>();
    for (int i = 0; i < joined.size(); i++) {
      assignments.put(joined.get(i).memberId(), new byte[] {(byte) i});
    }
    return assignments;
  }

  private static void syncAll(ClassicGroup group, List<JoinGroupResponseData> joined, long now) {
    final Map<String, byte[]> assignments = assignments(joined);
    final List<CompletableFuture<SyncGroupResponseData>> synced = new ArrayList<>();
    for (JoinGroupResponseData j : joined) {
      synced.add(group.sync(j.memberId(), null, j.generationId(), assignments, now));
    }
    synced.forEach(f -> assertThat(f.join().errorCode()).isEqualTo(Errors.NONE.code()));
  }

  @Test
  void firstRebalanceWaitsForTheInitialDelay() {
    final ClassicGroup group = group(3000);
    final var first = group.join(join("", null, "s"), 0);
    group.tick(1000);
    final var second = group.join(join("", null, "s"), 1000);
    group.tick(2999);
    assertThat(first).isNotDone();
    group.tick(3000);
    assertThat(first.join().generationId()).isEqualTo(1);
    assertThat(second.join().generationId()).isEqualTo(1);
    assertThat(first.join().members()).hasSize(2);
    assertThat(second.join().members()).as("only the leader sees the members").isEmpty();
    assertThat(group.state()).isEqualTo(GroupState.COMPLETING_REBALANCE);
  }

  @Test
  void newDynamicMemberNeedsAMemberIdFirstFromV4() {
    final ClassicGroup group = group(DELAY_MS);
    final JoinRequest anonymous = newMemberJoin(SESSION_MS, "range", true);
    final JoinGroupResponseData required = group.join(anonymous, 0).join();
    assertThat(required.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
    final var joining = group.join(join(required.memberId(), null, "s"), 10);
    group.tick(10 + DELAY_MS);
    final var joined = joining.join();
    assertThat(joined.errorCode()).isEqualTo(Errors.NONE.code());
    assertThat(joined.memberId()).isEqualTo(required.memberId());
  }

  @Test
  void assignmentIsHandedOutOnlyOnceStored() {
    final ClassicGroup group = group(DELAY_MS);
    final List<JoinGroupResponseData> joined = joinAll(group, 2, 0);
    storeResult = new CompletableFuture<>();
    final JoinGroupResponseData leader =
        joined.stream().filter(j -> j.memberId().equals(j.leader())).findFirst().orElseThrow();
    final JoinGroupResponseData follower =
        joined.stream().filter(j -> !j.memberId().equals(j.leader())).findFirst().orElseThrow();
    final Map<String, byte[]> assignments = assignments(joined);
    final var followerSync = group.sync(follower.memberId(), null, 1, Map.of(), 5);
    final var leaderSync = group.sync(leader.memberId(), null, 1, assignments, 6);
    assertThat(followerSync).isNotDone();
    assertThat(leaderSync).isNotDone();
    assertThat(stored).hasSize(1);
    assertThat(stored.get(0).members()).hasSize(2);
    storeResult.complete(Errors.NONE);
    assertThat(followerSync.join().assignment()).isEqualTo(assignments.get(follower.memberId()));
    assertThat(leaderSync.join().assignment()).isEqualTo(assignments.get(leader.memberId()));
    assertThat(group.state()).isEqualTo(GroupState.STABLE);
  }

  @Test
  void failedStoreSendsEveryoneBackToRejoin() {
    final ClassicGroup group = group(DELAY_MS);
    final List<JoinGroupResponseData> joined = joinAll(group, 1, 0);
    storeResult = CompletableFuture.completedFuture(Errors.NOT_COORDINATOR);
    final var sync = group.sync(joined.get(0).memberId(), null, 1, assignments(joined), 1);
    assertThat(sync.join().errorCode()).isEqualTo(Errors.NOT_COORDINATOR.code());
    assertThat(group.state()).isEqualTo(GroupState.PREPARING_REBALANCE);
  }

  @Test
  void memberWhoseSessionExpiresIsRemovedAndTheGroupRebalances() {
    final ClassicGroup group = group(DELAY_MS);
    final List<JoinGroupResponseData> joined = joinAll(group, 2, 0);
    syncAll(group, joined, 0);
    final String alive = joined.get(0).memberId();
    for (long t = 1000; t <= SESSION_MS; t += 1000) {
      assertThat(group.heartbeat(alive, null, 1, t)).isEqualTo(Errors.NONE);
      group.tick(t);
    }
    assertThat(group.state()).isEqualTo(GroupState.STABLE);
    group.tick(SESSION_MS + 1);
    assertThat(group.state()).isEqualTo(GroupState.PREPARING_REBALANCE);
    assertThat(group.memberCount()).isEqualTo(1);
    assertThat(group.heartbeat(alive, null, 1, SESSION_MS + 2))
        .isEqualTo(Errors.REBALANCE_IN_PROGRESS);
    assertThat(group.heartbeat(joined.get(1).memberId(), null, 1, SESSION_MS + 2))
        .isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    final var rejoined = group.join(join(alive, null, "s"), SESSION_MS + 3).join();
    assertThat(rejoined.generationId()).isEqualTo(2);
    assertThat(rejoined.members()).hasSize(1);
  }

  @Test
  void sessionOfAMemberThatWaitedForTheLeadersSyncStartsWhenItsAssignmentArrives() {
    final ClassicGroup group = group(DELAY_MS);
    final List<JoinGroupResponseData> joined = joinAll(group, 2, 0);
    final JoinGroupResponseData leader =
        joined.stream().filter(j -> j.memberId().equals(j.leader())).findFirst().orElseThrow();
    final JoinGroupResponseData follower =
        joined.stream().filter(j -> !j.memberId().equals(j.leader())).findFirst().orElseThrow();
    final var followerSync = group.sync(follower.memberId(), null, 1, Map.of(), 0);
    group.tick(SESSION_MS / 2);
    group.sync(leader.memberId(), null, 1, assignments(joined), 5000).join();
    assertThat(followerSync.join().errorCode()).isEqualTo(Errors.NONE.code());
    group.tick(SESSION_MS + 1);
    assertThat(group.state())
        .as("a session counted from the follower's own SyncGroup would have expired")
        .isEqualTo(GroupState.STABLE);
    assertThat(group.memberCount()).isEqualTo(2);
    group.tick(5000 + SESSION_MS + 1);
    assertThat(group.memberCount()).isZero();
  }

  @Test
  void membersThatDoNotRejoinWithinTheRebalanceTimeoutAreDropped() {
    final ClassicGroup group = group(DELAY_MS);
    final List<JoinGroupResponseData> joined = joinAll(group, 2, 0);
    syncAll(group, joined, 0);
    final String a = joined.get(0).memberId();
    final String b = joined.get(1).memberId();
    final var rejoin = group.join(join(a, null, "changed"), 100);
    assertThat(group.state()).isEqualTo(GroupState.PREPARING_REBALANCE);
    for (long t = 1000; t < 100 + REBALANCE_MS; t += 1000) {
      assertThat(group.heartbeat(b, null, 1, t)).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
      group.tick(t);
    }
    assertThat(rejoin).isNotDone();
    group.tick(100 + REBALANCE_MS);
    assertThat(rejoin.join().generationId()).isEqualTo(2);
    assertThat(rejoin.join().members()).extracting(m -> m.memberId()).containsExactly(a);
    assertThat(group.heartbeat(b, null, 2, 100 + REBALANCE_MS)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
  }

  @Test
  void generationAndMembershipAreCheckedWithKafkasErrors() {
    final ClassicGroup group = group(DELAY_MS);
    final List<JoinGroupResponseData> joined = joinAll(group, 1, 0);
    final String member = joined.get(0).memberId();
    assertThat(group.validateCommit(member, null, 1)).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
    syncAll(group, joined, 0);
    assertThat(group.heartbeat(member, null, 0, 1)).isEqualTo(Errors.ILLEGAL_GENERATION);
    assertThat(group.sync("nobody", null, 1, Map.of(), 1).join().errorCode())
        .isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
    assertThat(group.validateCommit(member, null, 1)).isEqualTo(Errors.NONE);
    assertThat(group.validateCommit("", null, -1))
        .as("admin commits need an empty group")
        .isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    assertThat(group.validateCommit(member, null, 2)).isEqualTo(Errors.ILLEGAL_GENERATION);
    final var invalid = group.join(newMemberJoin(10, "range", false), 1);
    assertThat(invalid.join().errorCode()).isEqualTo(Errors.INVALID_SESSION_TIMEOUT.code());
    final var otherProtocol = group.join(newMemberJoin(SESSION_MS, "sticky", false), 1);
    assertThat(otherProtocol.join().errorCode())
        .isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL.code());
  }

  @Test
  void restartedStaticMemberTakesItsSlotBackWithoutARebalance() {
    final ClassicGroup group = group(DELAY_MS);
    final var leader = group.join(join("", null, "s"), 0);
    final var member = group.join(join("", "instance-1", "s"), 0);
    group.tick(DELAY_MS);
    syncAll(group, List.of(leader.join(), member.join()), 0);
    final String oldId = member.join().memberId();

    final JoinGroupResponseData back = group.join(join("", "instance-1", "s"), 100).join();
    assertThat(back.errorCode()).isEqualTo(Errors.NONE.code());
    assertThat(back.memberId()).isNotEqualTo(oldId);
    assertThat(back.generationId()).isEqualTo(1);
    assertThat(group.state()).isEqualTo(GroupState.STABLE);
    assertThat(group.heartbeat(oldId, "instance-1", 1, 200)).isEqualTo(Errors.FENCED_INSTANCE_ID);
    assertThat(group.heartbeat(back.memberId(), "instance-1", 1, 200)).isEqualTo(Errors.NONE);
    assertThat(group.sync(back.memberId(), "instance-1", 1, Map.of(), 200).join().assignment())
        .containsExactly(1);
  }

  @Test
  void lastMemberLeavingEmptiesTheGroupAndStoresIt() {
    final ClassicGroup group = group(DELAY_MS);
    final List<JoinGroupResponseData> joined = joinAll(group, 1, 0);
    syncAll(group, joined, 0);
    assertThat(group.leave(joined.get(0).memberId(), null, 10)).isEqualTo(Errors.NONE);
    assertThat(group.state()).isEqualTo(GroupState.EMPTY);
    assertThat(group.generation()).isEqualTo(2);
    assertThat(stored.get(stored.size() - 1).members()).isEmpty();
    assertThat(group.validateCommit("", null, -1)).isEqualTo(Errors.NONE);
  }

  @Test
  void restoredGroupIsStableAndItsMembersKeepHeartbeating() {
    final ClassicGroup group = group(DELAY_MS);
    final List<JoinGroupResponseData> joined = joinAll(group, 2, 0);
    syncAll(group, joined, 0);
    final GroupMetadata written = stored.get(stored.size() - 1);
    final ClassicGroup restored =
        ClassicGroup.restore("g", group.config(), (id, m) -> storeResult, written, 50_000);
    assertThat(restored.state()).isEqualTo(GroupState.STABLE);
    assertThat(restored.generation()).isEqualTo(1);
    assertThat(restored.heartbeat(joined.get(0).memberId(), null, 1, 51_000))
        .isEqualTo(Errors.NONE);
    assertThat(
            restored.sync(joined.get(1).memberId(), null, 1, Map.of(), 51_000).join().assignment())
        .containsExactly(1);
    assertThat(restored.heartbeat(joined.get(0).memberId(), null, 1, 56_000))
        .isEqualTo(Errors.NONE);
    restored.tick(51_000 + SESSION_MS + 1);
    assertThat(restored.memberCount()).as("the silent member expired").isEqualTo(1);
  }
}
