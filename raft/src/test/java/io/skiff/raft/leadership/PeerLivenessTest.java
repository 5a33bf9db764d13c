package io.skiff.raft.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.RaftNode;
import io.skiff.raft.RaftRpcType;
import io.skiff.raft.RatisProperties;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;

/**
 * {@link PeerLiveness}'s state machine, driven by a clock the test moves: a tracked peer starts
 * reachable with a grace of one timeout, turns unreachable once no probe succeeded for longer than
 * the timeout, and reachable again after a successful probe; untracked peers and this node always
 * count as reachable. (Real probes run in the broker's LeaderTakeoverTest.)
 */
class PeerLivenessTest {
  private static final long TIMEOUT_MS = 4_000;
  private static final RaftPeerId SELF = RaftNode.peerId(1);
  private static final RaftPeer TWO = RaftNode.peer(2, "127.0.0.1:1");
  private static final RaftPeer THREE = RaftNode.peer(3, "127.0.0.1:2");

  private final AtomicLong clock = new AtomicLong(1_000_000_000L);

  private PeerLiveness liveness() {
    return new PeerLiveness(
        SELF,
        clock::get,
        500,
        TIMEOUT_MS,
        RaftNode.METADATA_GROUP,
        RatisProperties.client(RaftRpcType.GRPC, 500));
  }

  private long advanceMs(long ms) {
    return clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
  }

  @Test
  void aSilentPeerTurnsUnreachableOnlyAfterTheTimeoutAndBackOnAProbe() {
    try (PeerLiveness liveness = liveness()) {
      liveness.track(List.of(RaftNode.peer(1, "127.0.0.1:0"), TWO, THREE));
      assertThat(liveness.tracked()).containsExactlyInAnyOrder(TWO.getId(), THREE.getId());

      assertThat(liveness.evaluate(advanceMs(TIMEOUT_MS))).isEmpty(); // the grace: one timeout
      liveness.probeSucceeded(THREE.getId(), clock.get());
      final List<PeerLiveness.Transition> down = liveness.evaluate(advanceMs(1));
      assertThat(down).extracting(PeerLiveness.Transition::peer).containsExactly(TWO.getId());
      assertThat(down.get(0).reachable()).isFalse();
      assertThat(down.get(0).silentNanos())
          .isGreaterThan(TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS));
      assertThat(liveness.reachable(TWO.getId())).isFalse();
      assertThat(liveness.reachable(THREE.getId())).isTrue();
      assertThat(liveness.reachable(SELF)).isTrue();
      assertThat(liveness.reachable(RaftNode.peerId(9))).as("untracked").isTrue();
      assertThat(liveness.evaluate(advanceMs(500)))
          .as("one transition, not one per tick")
          .isEmpty();

      liveness.probeSucceeded(TWO.getId(), clock.get());
      final List<PeerLiveness.Transition> up = liveness.evaluate(advanceMs(1));
      assertThat(up).extracting(PeerLiveness.Transition::peer).containsExactly(TWO.getId());
      assertThat(up.get(0).reachable()).isTrue();
      assertThat(liveness.unreachable()).isEmpty();
    }
  }

  /**
   * What a peer said counts toward a leader's confirmation only if it was said after the peer last
   * became reachable: a reply from before a partition healed says nothing of the term since.
   */
  @Test
  void onlyWhatAPeerSaidSinceItBecameReachableAgainCounts() {
    try (PeerLiveness liveness = liveness()) {
      liveness.track(List.of(TWO, THREE));
      final long tracked = clock.get();
      assertThat(liveness.reachableSince(TWO.getId(), tracked)).as("since tracking").isTrue();
      assertThat(liveness.reachableSince(TWO.getId(), tracked - 1)).isFalse();
      assertThat(liveness.reachableSince(RaftNode.peerId(9), 0)).as("untracked").isTrue();

      final long beforeCut = advanceMs(100);
      liveness.probeSucceeded(THREE.getId(), advanceMs(TIMEOUT_MS));
      liveness.evaluate(advanceMs(1));
      assertThat(liveness.reachableSince(TWO.getId(), clock.get())).as("unreachable").isFalse();
      assertThat(liveness.reachableSince(THREE.getId(), beforeCut)).as("never cut off").isTrue();

      liveness.probeSucceeded(TWO.getId(), advanceMs(1_000));
      final long healed = liveness.evaluate(advanceMs(1)).isEmpty() ? -1 : clock.get();
      assertThat(healed).as("two became reachable again").isPositive();
      assertThat(liveness.reachableSince(TWO.getId(), beforeCut))
          .as("a reply from before the cut")
          .isFalse();
      assertThat(liveness.reachableSince(TWO.getId(), healed - 1)).isFalse();
      assertThat(liveness.reachableSince(TWO.getId(), healed)).isTrue();
    }
  }

  @Test
  void aPeerAddedLaterGetsItsOwnGraceAndADroppedPeerIsForgotten() {
    try (PeerLiveness liveness = liveness()) {
      liveness.track(List.of(TWO));
      advanceMs(TIMEOUT_MS - 1);
      liveness.track(List.of(TWO, THREE));
      liveness.evaluate(advanceMs(2));
      assertThat(liveness.unreachable()).containsExactly(TWO.getId());

      liveness.track(List.of(THREE)); // TWO decommissioned
      assertThat(liveness.unreachable()).isEmpty();
      assertThat(liveness.tracked()).containsExactly(THREE.getId());
      liveness.evaluate(advanceMs(TIMEOUT_MS));
      assertThat(liveness.unreachable()).containsExactly(THREE.getId());
    }
  }

  /**
   * A stall of this node (its liveness thread not running) excuses a reachable peer's silence but
   * never revives an unreachable one: a dead broker would otherwise count as reachable again after
   * each stall, such as the election burst of its own takeover.
   */
  @Test
  void aStallExcusesReachablePeersButRevivesNoUnreachableOne() {
    try (PeerLiveness liveness = liveness()) {
      liveness.track(List.of(TWO, THREE));
      liveness.probeSucceeded(THREE.getId(), advanceMs(TIMEOUT_MS));
      assertThat(liveness.evaluate(advanceMs(1)))
          .extracting(PeerLiveness.Transition::peer)
          .containsExactly(TWO.getId());

      liveness.excuse(TimeUnit.MILLISECONDS.toNanos(2_000)); // this node stalls right after
      assertThat(liveness.evaluate(advanceMs(500)))
          .as("two, unreachable before the stall, is not revived by it")
          .isEmpty();
      assertThat(liveness.evaluate(advanceMs(4_000)))
          .as("three, silent 4.5 s of which 2 s were this node's stall, stays reachable")
          .isEmpty();
      assertThat(liveness.unreachable()).containsExactly(TWO.getId());

      liveness.excuse(TimeUnit.MILLISECONDS.toNanos(400));
      assertThat(liveness.evaluate(advanceMs(1_500)))
          .as("a delay shorter than an interval excuses nothing")
          .extracting(PeerLiveness.Transition::peer)
          .containsExactly(THREE.getId());
    }
  }

  @Test
  void aStaleProbeResultDoesNotMoveTheClockBack() {
    try (PeerLiveness liveness = liveness()) {
      liveness.track(List.of(TWO));
      final long early = clock.get();
      liveness.probeSucceeded(TWO.getId(), advanceMs(3_000));
      liveness.probeSucceeded(TWO.getId(), early); // a slow probe answering late
      assertThat(liveness.evaluate(advanceMs(TIMEOUT_MS))).isEmpty();
    }
  }

  @Test
  void raftTrafficKeepsAPeerWhoseProbesAreLateReachable() {
    try (PeerLiveness liveness = liveness()) {
      liveness.track(List.of(TWO, THREE));
      final long tracked = clock.get();
      final AtomicLong asked = new AtomicLong();
      final PeerLiveness.Traffic twoReplied =
          (heard, now) -> {
            asked.incrementAndGet();
            heard.accept(TWO.getId(), now - TimeUnit.MILLISECONDS.toNanos(100));
          };

      liveness.consult(twoReplied, advanceMs(900));
      assertThat(asked).as("probes on time: no evidence gathered").hasValue(0);
      liveness.consult(twoReplied, advanceMs(TIMEOUT_MS - 500));
      assertThat(asked).as("probes overdue").hasValue(1);
      final List<PeerLiveness.Transition> down = liveness.evaluate(advanceMs(1_000));
      assertThat(down)
          .as("two replied to Raft traffic; three neither answered nor replied")
          .extracting(PeerLiveness.Transition::peer)
          .containsExactly(THREE.getId());
      assertThat(liveness.reachableTracked()).containsExactly(TWO.getId());

      liveness.consult((heard, now) -> heard.accept(THREE.getId(), tracked), clock.get());
      assertThat(liveness.evaluate(advanceMs(1)))
          .as("a reply older than the last evaluation changes nothing")
          .isEmpty();
    }
  }
}
