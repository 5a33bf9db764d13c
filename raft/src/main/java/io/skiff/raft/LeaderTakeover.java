package io.skiff.raft;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Elects new leaders, at once, for the groups whose leader is on a broker {@link PeerLiveness}
 * counts unreachable, so that groups can keep election timeouts long (few heartbeats while idle)
 * without a dead broker's partitions waiting them out.
 *
 * <p>On each liveness tick while a peer is unreachable, every division of this server (partition
 * groups and the metadata group) that is a running follower and whose leader is unreachable, or
 * that has had no leader since the previous tick at least while one of its voters is unreachable,
 * is an <em>orphan</em>. The reachable voters of an orphan (this node included) are ranked by
 * {@link #ranking}, which every broker computes alike and which spreads a dead broker's groups
 * evenly over the survivors; rank {@code r} stands for election ({@code
 * Division#startLeaderElection}, Skiff's Ratis patch 0009: a forced election, no pre-vote) once the
 * group has been an orphan for {@code r × stagger}. A voter whose log lags loses (voters grant
 * votes only to a log at least as up to date as theirs), and the next rank stands after its
 * stagger. A node stands at most once per round (so never twice at one term): were ranks to stand
 * again whenever the term moved, two survivors whose elections take longer than the stagger on a
 * loaded machine would keep cancelling each other's elections. A node that sees another voter
 * campaign (the group's term rises) restarts its wait and adds a stagger, so as not to split the
 * votes. When every rank has had its turn and the group is still without a leader (split votes), a
 * new round starts. An orphan whose reachable voters are not a majority is left alone: no election
 * could win there.
 *
 * <p>Not thread-safe: {@link #onTick} runs on the liveness thread only, which hands each election
 * it starts to a virtual thread of its own; {@link #takeovers} may be read from any thread.
 */
final class LeaderTakeover {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderTakeover.class);

  /**
   * Default delay between two ranks standing for the same group: longer than a forced election
   * takes on a loaded machine (a vote request took 2 s to arrive at load 40, and a second rank
   * standing at 2 s split the votes).
   */
  static final long DEFAULT_STAGGER_MS = 5_000;

  private final RaftServer server;
  private final RaftPeerId self;
  private final PeerLiveness liveness;
  private final long staggerNanos;
  private final AtomicLong takeovers = new AtomicLong();
  private final ExecutorService elections =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("skiff-takeover-", 0).factory());

  /**
   * Groups without a reachable leader: since when (or since another voter was seen campaigning,
   * {@code contested}), the term then, and whether this node stood since.
   */
  private final Map<RaftGroupId, Orphan> orphans = new HashMap<>();

  private record Orphan(long sinceNanos, long term, boolean contested, boolean stood) {}

  LeaderTakeover(RaftServer server, RaftPeerId self, PeerLiveness liveness, long staggerMs) {
    this.server = server;
    this.self = self;
    this.liveness = liveness;
    this.staggerNanos = TimeUnit.MILLISECONDS.toNanos(staggerMs);
  }

  /** Elections this node started because a group's leader was unreachable (a counter). */
  long takeovers() {
    return takeovers.get();
  }

  /** Logs the liveness transitions, then stands for election where this node's rank is due. */
  void onTick(List<PeerLiveness.Transition> transitions, long nowNanos) {
    for (PeerLiveness.Transition t : transitions) {
      final int node = RaftNode.nodeIdOf(t.peer());
      if (t.reachable()) {
        LOG.info("Broker {} reachable again", node);
      } else {
        LOG.warn(
            "Broker {} unreachable for {} s: standing for election in the {} groups it led",
            node,
            String.format("%.1f", t.silentNanos() / 1e9),
            groupsLedBy(t.peer()));
      }
    }
    final Set<RaftPeerId> down = liveness.unreachable();
    if (down.isEmpty()) {
      orphans.clear();
      return;
    }
    for (RaftGroupId groupId : server.getGroupIds()) {
      try {
        check(server.getDivision(groupId), groupId, down, nowNanos);
      } catch (IOException e) {
        orphans.remove(groupId); // removed meanwhile
      } catch (RuntimeException e) {
        // One group's failure (e.g. its division closing) must not keep the others from electing.
        LOG.warn("Cannot stand for election in {}: {}", groupId, e.toString());
      }
    }
    orphans.keySet().retainAll(toSet(server.getGroupIds()));
  }

  private void check(
      RaftServer.Division division, RaftGroupId groupId, Set<RaftPeerId> down, long now) {
    final DivisionInfo info = division.getInfo();
    if (info.isLeader() || info.isListener() || !info.isAlive()) {
      orphans.remove(groupId);
      return;
    }
    if (!info.isFollower()) {
      return; // a candidate: its election runs; keep the group's orphan record as it is
    }
    final RaftPeerId leader = info.getLeaderId();
    final Collection<RaftPeer> voters = division.getRaftConf().getCurrentPeers();
    final boolean leaderDown = leader != null && down.contains(leader);
    final boolean leaderless =
        leader == null && voters.stream().anyMatch(v -> down.contains(v.getId()));
    if (!leaderDown && !leaderless) {
      orphans.remove(groupId);
      return;
    }
    Orphan orphan = orphans.get(groupId);
    if (orphan == null) {
      orphan = new Orphan(now, info.getCurrentTerm(), false, false);
      orphans.put(groupId, orphan);
      if (leaderless) {
        return; // no leader may just mean an election is under way: look again next tick
      }
    }
    if (!majorityReachable(voters, down)) {
      return;
    }
    final long term = info.getCurrentTerm();
    if (!orphan.stood() && term > orphan.term()) {
      // Another voter stands (its vote request raised our term): give its election a stagger
      // before anyone here stands too and splits the votes.
      orphan = new Orphan(now, term, true, false);
      orphans.put(groupId, orphan);
    }
    final List<RaftPeerId> ranks = ranking(groupId, reachableVoters(voters, down));
    if (orphan.stood() && now - orphan.sinceNanos() > (ranks.size() + 1) * staggerNanos) {
      // Every rank had its turn and the group is still leaderless (split votes): a new round.
      orphan = new Orphan(now, term, false, false);
      orphans.put(groupId, orphan);
    }
    final int rank = ranks.indexOf(self);
    final long delay = (rank + (orphan.contested() ? 1 : 0)) * staggerNanos;
    if (orphan.stood() || rank < 0 || now - orphan.sinceNanos() < delay) {
      return;
    }
    orphans.put(groupId, new Orphan(orphan.sinceNanos(), term, orphan.contested(), true));
    // A forced election persists the new term on the calling thread (an fsync of the group's
    // raft-meta): a dead broker's hundreds of groups stand in parallel, not one after the other on
    // this thread, whose ticks must go on (at N=1000 on a loaded machine the serial stands took
    // the liveness thread tens of seconds, during which other ranks' turns came and split votes).
    elections.execute(() -> stand(division, term, rank, ranks.size(), leader));
  }

  /** Starts an election in {@code division} unless its term moved since it was found orphaned. */
  private void stand(
      RaftServer.Division division, long term, int rank, int ranks, RaftPeerId leader) {
    try {
      final DivisionInfo info = division.getInfo();
      if (info.getCurrentTerm() != term || !info.isFollower()) {
        return; // another voter's election reached this node meanwhile
      }
      if (division.startLeaderElection()) {
        takeovers.incrementAndGet();
        LOG.debug(
            "Standing for election in {} at term {} (rank {} of {}, leader {} unreachable)",
            division.getMemberId().getGroupId(),
            term + 1,
            rank,
            ranks,
            leader);
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "Cannot stand for election in {}: {}", division.getMemberId().getGroupId(), e.toString());
    }
  }

  /** Stops starting elections; those under way finish on their own. */
  void close() {
    elections.shutdownNow();
  }

  /** Followers here whose leader is {@code peer}. */
  private int groupsLedBy(RaftPeerId peer) {
    int led = 0;
    for (RaftGroupId groupId : server.getGroupIds()) {
      try {
        final DivisionInfo info = server.getDivision(groupId).getInfo();
        if (info.isFollower() && peer.equals(info.getLeaderId())) {
          led++;
        }
      } catch (IOException e) {
        // removed meanwhile
      }
    }
    return led;
  }

  /** True if more than half of {@code voters} are not in {@code down}. */
  static boolean majorityReachable(Collection<RaftPeer> voters, Set<RaftPeerId> down) {
    return reachableVoters(voters, down).size() > voters.size() / 2;
  }

  private static List<RaftPeerId> reachableVoters(
      Collection<RaftPeer> voters, Set<RaftPeerId> down) {
    final List<RaftPeerId> reachable = new ArrayList<>(voters.size());
    for (RaftPeer v : voters) {
      if (!down.contains(v.getId())) {
        reachable.add(v.getId());
      }
    }
    return reachable;
  }

  /**
   * The order in which {@code candidates} stand for election in {@code groupId}: by a hash of the
   * group and the peer, the same on every broker (it depends on nothing but the two ids), and
   * different from group to group, so that the groups a dead broker led are spread evenly over the
   * survivors as first candidates.
   */
  static List<RaftPeerId> ranking(RaftGroupId groupId, Collection<RaftPeerId> candidates) {
    final List<RaftPeerId> ranked = new ArrayList<>(candidates);
    ranked.sort(
        Comparator.comparingLong((RaftPeerId p) -> rankHash(groupId, p))
            .thenComparing(RaftPeerId::toString));
    return ranked;
  }

  private static long rankHash(RaftGroupId groupId, RaftPeerId peer) {
    long h =
        groupId.getUuid().getMostSignificantBits() * 31
            + groupId.getUuid().getLeastSignificantBits();
    for (byte b : peer.toString().getBytes(StandardCharsets.UTF_8)) {
      h = h * 31 + b;
    }
    // SplitMix64's finalizer: neighbouring inputs land far apart.
    h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
    h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }

  private static Set<RaftGroupId> toSet(Iterable<RaftGroupId> ids) {
    final Set<RaftGroupId> set = new java.util.HashSet<>();
    ids.forEach(set::add);
    return set;
  }
}
