package io.skiff.raft.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.RaftNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * {@link LeaderTakeover#ranking}: every broker, whatever order it lists a group's reachable voters
 * in, computes the same ranks, so exactly one of them is rank 0 and stands first; and over many
 * groups the first candidates are spread evenly over the survivors.
 */
class LeaderTakeoverRankingProperties {

  @Property(tries = 300)
  void everyBrokerComputesTheSameRanksWithOneFirst(
      @ForAll long groupSeed, @ForAll @IntRange(min = 1, max = 7) int voters, @ForAll long order) {
    final RaftGroupId group = RaftGroupId.valueOf(new UUID(groupSeed, groupSeed | 1));
    final List<RaftPeerId> peers = peers(voters);
    final List<RaftPeerId> shuffled = new ArrayList<>(peers);
    Collections.shuffle(shuffled, new Random(order));

    final List<RaftPeerId> ranks = LeaderTakeover.ranking(group, peers);
    assertThat(LeaderTakeover.ranking(group, shuffled)).isEqualTo(ranks);
    assertThat(ranks).containsExactlyInAnyOrderElementsOf(peers);
    assertThat(ranks.stream().filter(p -> ranks.indexOf(p) == 0)).hasSize(1);
  }

  @Property(tries = 20)
  void aDeadBrokersGroupsAreSpreadEvenlyOverTheSurvivors(
      @ForAll @IntRange(min = 2, max = 6) int survivors, @ForAll long seed) {
    final int groups = 3_000;
    final Random random = new Random(seed);
    final List<RaftPeerId> peers = peers(survivors);
    final Map<RaftPeerId, Integer> firsts = new HashMap<>();
    for (int g = 0; g < groups; g++) {
      final RaftGroupId group = RaftGroupId.valueOf(new UUID(random.nextLong(), random.nextLong()));
      firsts.merge(LeaderTakeover.ranking(group, peers).get(0), 1, Integer::sum);
    }
    final double even = (double) groups / survivors;
    assertThat(firsts).hasSize(survivors);
    for (int count : firsts.values()) {
      // Binomial: sd <= sqrt(3000 / 4) ≈ 27; 20 % of the even share is >= 3.7 sd for 6 survivors.
      assertThat((double) count).isBetween(even * 0.8, even * 1.2);
    }
  }

  @Property(tries = 50)
  void groupsOfConsecutivePartitionsDoNotShareTheirFirstCandidate(@ForAll long seed) {
    // Partition group ids of one topic differ only in their low bits; ranks must still vary.
    final List<RaftPeerId> peers = peers(2);
    final Map<RaftPeerId, Integer> firsts = new HashMap<>();
    for (int partition = 0; partition < 200; partition++) {
      final RaftGroupId group = RaftGroupId.valueOf(new UUID(seed, partition + 1));
      firsts.merge(LeaderTakeover.ranking(group, peers).get(0), 1, Integer::sum);
    }
    assertThat(firsts.values()).allSatisfy(count -> assertThat(count).isBetween(60, 140));
  }

  private static List<RaftPeerId> peers(int count) {
    final List<RaftPeerId> peers = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      peers.add(RaftNode.peerId(i));
    }
    return peers;
  }
}
