package io.skiff.raft.membership;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.RaftNode;
import java.util.List;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;

/** The voter lists a reassignment passes through, so that Ratis accepts every change. */
class VoterStepsTest {
  @Test
  void aLoneVoterGainsItsReplacementFirst() {
    assertThat(steps(List.of(1), List.of(2))).containsExactly(List.of(1, 2));
  }

  @Test
  void replacingHalfTheVotersAddsBeforeRemoving() {
    assertThat(steps(List.of(1, 2), List.of(2, 3))).containsExactly(List.of(1, 2, 3));
    assertThat(steps(List.of(1), List.of(2, 3))).containsExactly(List.of(1, 2), List.of(1, 2, 3));
  }

  @Test
  void replacingEveryVoterGrowsByFewerThanItKeeps() {
    assertThat(steps(List.of(1, 2, 3), List.of(4, 5, 6)))
        .containsExactly(List.of(1, 2, 3, 4, 5), List.of(1, 2, 3, 4, 5, 6));
  }

  @Test
  void aMinorityChangeOrARemovalNeedsNoStep() {
    assertThat(steps(List.of(1, 2, 3), List.of(2, 3, 4))).isEmpty();
    assertThat(steps(List.of(1, 2, 3), List.of(3))).isEmpty();
  }

  /** Every step keeps more voters than it adds, as Ratis requires (or goes from one to two). */
  @Test
  void everyStepPassesRatisMajorityRule() {
    final List<Integer> current = List.of(1, 2);
    List<Integer> voters = current;
    for (List<Integer> step : steps(current, List.of(5, 6, 7, 8))) {
      final List<Integer> before = voters;
      final long added = step.stream().filter(n -> !before.contains(n)).count();
      assertThat(added < step.size() - added || (before.size() == 1 && step.size() == 2)).isTrue();
      voters = step;
    }
    assertThat(voters).containsAll(List.of(5, 6, 7, 8));
  }

  private static List<List<Integer>> steps(List<Integer> current, List<Integer> target) {
    return VoterSteps.growth(peers(current), peers(target)).stream()
        .map(step -> step.stream().map(p -> RaftNode.nodeIdOf(p.getId())).toList())
        .toList();
  }

  private static List<RaftPeer> peers(List<Integer> ids) {
    return ids.stream().map(n -> RaftNode.peer(n, "127.0.0.1:" + (9000 + n))).toList();
  }
}
