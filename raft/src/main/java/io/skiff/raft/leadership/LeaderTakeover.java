package io.skiff.raft.leadership;

import io.skiff.raft.RaftNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorageMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Elects new leaders, at once, for the groups whose leader is on a broker {@link PeerLiveness}
 * counts unreachable, so that groups can keep election timeouts long (few heartbeats while idle)
 * without a dead broker's partitions waiting them out.
 *
 * <p>On each liveness tick while a peer is unreachable, every division of this server (partition
 * groups and the metadata group) that is a running follower and whose leader is unreachable, or
 * that has no leader while one of its voters is unreachable, is an <em>orphan</em>. The reachable
 * voters of an orphan (this node included) are ranked by {@link #ranking}, which every broker
 * computes alike and which spreads a dead broker's groups evenly over the survivors; rank {@code r}
 * stands for election ({@code Division#startLeaderElection}, Skiff's Ratis patch 0009: a forced
 * election, no pre-vote) once the group has been an orphan for {@code r × stagger} (one stagger
 * more if it had no known leader at all: it may be mid-election), <em>provided its term has not
 * moved meanwhile</em>. A higher term means another voter campaigned and its vote request reached
 * this node; as a Raft voter does after a vote, this node then leaves the group to its election
 * timeout rather than cancel that election. (Earlier rules that let ranks stand again, or after a
 * longer wait, made two survivors depose each other's new leaders over and over at N=1000 on a
 * loaded machine, where a vote request or a new leader's first AppendEntries took longer than the
 * stagger to be handled.) One exception: a node that <em>refused</em> that candidate its vote (the
 * candidate's log lagged behind its own, so it voted for nobody in the new term) stands itself, its
 * own log being the longer one: at once where the reachable voters are just a majority (two of
 * three), since the candidate cannot have won without it; elsewhere if it still sees no leader a
 * stagger later. Without it such a group waited for its election timeout whenever its first
 * candidate's log lagged (a replica restarted moments before, or one that had received less of the
 * dead leader's last entries). A node stands at most once per orphan. An orphan whose reachable
 * voters are not a majority is left alone: no election could win there.
 *
 * <p>Groups this node is the only voter of need no other broker to be down: after this node (or the
 * group's Raft log) restarts, such a group would wait out its whole election timeout (30 to 60 s by
 * default) before electing the one replica it has. Groups handed to {@link #restarted} stand for
 * election on the next tick that finds them running as followers with this node their only voter
 * (what the election timeout would do, earlier); any other group is dropped from that watch.
 *
 * <p>Not thread-safe: {@link #onTick} runs on the liveness thread only, which hands the elections
 * it starts to {@link #ELECTION_THREADS} threads of their own; {@link #takeovers} may be read and
 * {@link #restarted} called from any thread.
 */
public final class LeaderTakeover {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderTakeover.class);

  /**
   * Default delay between two ranks standing for the same group: longer than a forced election
   * takes when a dead broker's hundreds of groups elect at once (a vote request took 2 s to arrive
   * at load 40, and 5 s and more at N=1000: a second rank standing before it arrives splits the
   * votes).
   */
  public static final long DEFAULT_STAGGER_MS = 10_000;

  /** Forced elections started at once, at most (each persists a term: an fsync). */
  static final int ELECTION_THREADS = 4;

  /** How long a restarted group is watched for running alone before it is left to its timeout. */
  static final long RESTART_WATCH_NANOS = TimeUnit.MINUTES.toNanos(2);

  private final RaftServer server;
  private final RaftPeerId self;
  private final PeerLiveness liveness;
  private final long staggerNanos;
  private final AtomicLong takeovers = new AtomicLong();

  /** Groups just started or restarted here, and when: see {@link #restarted}. */
  private final Map<RaftGroupId, Long> restartedGroups = new ConcurrentHashMap<>();

  /**
   * Where forced elections start: a few platform threads, so that a dead broker's hundreds of
   * groups neither wait for one another on the liveness thread nor all fsync their {@code
   * raft-meta} at once (as many virtual threads did: they held every virtual-thread carrier, the
   * server's gRPC callbacks waited behind them, liveness probes to this broker timed out, and the
   * survivors counted each other dead).
   */
  private final ExecutorService elections =
      Executors.newFixedThreadPool(
          ELECTION_THREADS, Thread.ofPlatform().daemon().name("skiff-takeover-", 0).factory());

  /**
   * Groups without a reachable leader: since when, the term then, whether their leader was known
   * and unreachable (rather than unknown), and whether this node stood since.
   */
  private final Map<RaftGroupId, Orphan> orphans = new HashMap<>();

  private record Orphan(
      long sinceNanos,
      long term,
      boolean leaderSeenDown,
      boolean stood,
      long refusedTerm,
      long refusedSinceNanos) {

    Orphan(long sinceNanos, long term, boolean leaderSeenDown) {
      this(sinceNanos, term, leaderSeenDown, false, -1, 0);
    }

    Orphan standing() {
      return new Orphan(sinceNanos, term, leaderSeenDown, true, refusedTerm, refusedSinceNanos);
    }

    /** Refused a candidate's vote in {@code newTerm}, first seen at {@code now}. */
    Orphan refusedIn(long newTerm, long now) {
      return new Orphan(sinceNanos, term, leaderSeenDown, false, newTerm, now);
    }
  }

  public LeaderTakeover(RaftServer server, RaftPeerId self, PeerLiveness liveness, long staggerMs) {
    this.server = server;
    this.self = self;
    this.liveness = liveness;
    this.staggerNanos = TimeUnit.MILLISECONDS.toNanos(staggerMs);
  }

  /** Elections this node started because a group's leader was unreachable (a counter). */
  public long takeovers() {
    return takeovers.get();
  }

  /**
   * Watches {@code groupIds}, just started or restarted on this node: each that runs here as a
   * follower with this node its only voter stands for election on the next tick.
   */
  public void restarted(Iterable<RaftGroupId> groupIds) {
    final long now = System.nanoTime();
    groupIds.forEach(g -> restartedGroups.putIfAbsent(g, now));
  }

  /** Logs the liveness transitions, then stands for election where this node's rank is due. */
  public void onTick(List<PeerLiveness.Transition> transitions, long nowNanos) {
    if (!restartedGroups.isEmpty()) {
      electAlone();
    }
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
    final long term = info.getCurrentTerm();
    Orphan orphan = orphans.get(groupId);
    if (orphan == null) {
      orphan = new Orphan(now, term, leaderDown);
      orphans.put(groupId, orphan);
    }
    if (orphan.stood() || !majorityReachable(voters, down)) {
      return; // stood already, or no election could win here
    }
    final List<RaftPeerId> ranks = ranking(groupId, reachableVoters(voters, down));
    final int rank = ranks.indexOf(self);
    if (leader == null && refusedCandidate(division, term)) {
      // A candidate's vote request raised our term (forgetting the leader) and this node refused
      // it: possibly before this node counted the leader unreachable, so this is not only a term
      // moved since the orphan's record. (A follower that learned a new term from a leader's
      // AppendEntries it could not yet append knows that leader: not this case.)
      if (orphan.refusedTerm() != term) {
        orphan = orphan.refusedIn(term, now);
        orphans.put(groupId, orphan);
      }
      // Where every reachable voter's vote is needed for a majority, the candidate this node
      // refused has lost: stand now. Elsewhere it may have won with the others' votes, and its
      // first AppendEntries is given a stagger to arrive.
      final boolean everyVoteNeeded = ranks.size() == voters.size() / 2 + 1;
      if (!everyVoteNeeded && now - orphan.refusedSinceNanos() < staggerNanos) {
        return;
      }
    } else if (term != orphan.term()) {
      // Another voter campaigned since (its vote request raised our term) and got this node's
      // vote: as a Raft voter does after a vote, this node leaves that election alone.
      return;
    } else {
      // A group found with no leader at all may be mid-election: even rank 0 waits a stagger.
      final long delay = (rank + (orphan.leaderSeenDown() ? 0 : 1)) * staggerNanos;
      if (rank < 0 || now - orphan.sinceNanos() < delay) {
        return;
      }
    }
    orphans.put(groupId, orphan.standing());
    // A forced election persists the new term on the calling thread (an fsync of the group's
    // raft-meta): a dead broker's hundreds of groups stand on the election threads, not one after
    // the other on this thread, whose ticks must go on (at N=1000 on a loaded machine serial
    // stands took the liveness thread tens of seconds, during which other ranks' turns came).
    elections.execute(() -> stand(division, term, rank, ranks.size(), leader));
  }

  /**
   * Stands for election in each watched group that runs here as a follower with this node its only
   * voter; drops every group that has another voter, a leader, or has been watched too long; keeps
   * the ones still starting.
   */
  private void electAlone() {
    final long now = System.nanoTime();
    for (var it = restartedGroups.entrySet().iterator(); it.hasNext(); ) {
      final Map.Entry<RaftGroupId, Long> watched = it.next();
      if (now - watched.getValue() > RESTART_WATCH_NANOS) {
        it.remove();
        continue;
      }
      final RaftServer.Division division;
      try {
        division = server.getDivision(watched.getKey());
      } catch (IOException e) {
        continue; // not started yet, or removed: checked again until the watch ends
      }
      final RaftConfiguration conf = division.getRaftConf();
      final Collection<RaftPeer> voters = conf.getCurrentPeers();
      final boolean alone =
          voters.size() == 1
              && voters.iterator().next().getId().equals(self)
              && conf.getPreviousPeers().isEmpty();
      final DivisionInfo info = division.getInfo();
      if (!alone || info.isLeader() || info.isListener()) {
        it.remove();
      } else if (info.isAlive() && info.isFollower()) {
        it.remove();
        elections.execute(() -> standAlone(division));
      }
    }
  }

  private static void standAlone(RaftServer.Division division) {
    try {
      if (division.startLeaderElection()) {
        LOG.debug(
            "Standing for election in {}, restarted here and its only voter",
            division.getMemberId().getGroupId());
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "Cannot stand for election in {}: {}", division.getMemberId().getGroupId(), e.toString());
    }
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

  /**
   * True if a candidate's vote request raised this follower's term to {@code term} and this node
   * refused it (the candidate's log was behind this node's): its log holds no entry of that term,
   * so no leader of it reached this node, and it voted for nobody in it.
   */
  private static boolean refusedCandidate(RaftServer.Division division, long term) {
    final TermIndex last = division.getRaftLog().getLastEntryTermIndex();
    if (last != null && last.getTerm() >= term) {
      return false;
    }
    try {
      final RaftStorageMetadata voted = division.getRaftStorage().getMetadataFile().getMetadata();
      return voted.getTerm() == term
          && (voted.getVotedFor() == null || voted.getVotedFor().toString().isEmpty());
    } catch (IOException e) {
      return false; // not known: leave the group to its election timeout, as before
    }
  }

  /** Stops starting elections; those under way finish on their own. */
  public void close() {
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
  public static boolean majorityReachable(Collection<RaftPeer> voters, Set<RaftPeerId> down) {
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
