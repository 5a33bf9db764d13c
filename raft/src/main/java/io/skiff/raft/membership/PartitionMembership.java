package io.skiff.raft.membership;

import io.skiff.raft.RaftNode;
import io.skiff.raft.partition.PartitionId;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes who replicates a partition and who leads it, through Raft membership changes.
 *
 * <p>A reassignment runs in three steps, so the group never loses its majority of caught-up voters:
 * the new replicas join as non-voting listeners and catch up (through the Raft log, or the replica
 * fetcher when the log was purged); once their commit index reaches the leader's, one configuration
 * change (joint consensus) makes the target list the voters; replicas left out stop being members.
 * Each new replica's broker must first have created the group locally with {@link
 * RaftNode#joinPartition}.
 *
 * <p>Runs on the caller's thread, talking to the group's leader through a Raft client. Thread-safe.
 */
public final class PartitionMembership {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionMembership.class);

  /** Enough to follow a redirect or two to the leader; a dead replica fails in about a second. */
  private static final RetryPolicy ELECTION_RETRIES =
      RetryPolicies.retryUpToMaximumCountWithFixedSleep(
          5, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS));

  private static final Duration HAND_OVER_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Configuration changes give up after a few tries, so a new replica that cannot be reached (Ratis
   * keeps refusing to stage it) fails the call instead of blocking its caller.
   */
  private static final RetryPolicy CHANGE_RETRIES =
      RetryPolicies.retryUpToMaximumCountWithFixedSleep(
          5, TimeDuration.valueOf(500, TimeUnit.MILLISECONDS));

  private final RaftNode node;
  private final RaftProperties clientProperties;

  public PartitionMembership(RaftNode node, RaftProperties clientProperties) {
    this.node = node;
    this.clientProperties = clientProperties;
  }

  /** Asks the leader to hand leadership to {@code targetNodeId}, waiting up to {@code timeout}. */
  public void transferLeadership(PartitionId id, int targetNodeId, Duration timeout)
      throws IOException {
    try (RaftClient client = clientFor(id)) {
      final RaftClientReply reply =
          client.admin().transferLeadership(RaftNode.peerId(targetNodeId), timeout.toMillis());
      if (!reply.isSuccess()) {
        throw new IOException(
            "leadership of "
                + id
                + " did not move to node "
                + targetNodeId
                + ": "
                + reply.getException(),
            reply.getException());
      }
    }
    LOG.info("Leadership of {} moved to node {}", id, targetNodeId);
  }

  /**
   * Makes the preferred replica (the first of {@code replicas}) lead the partition, as Kafka's
   * preferred leader election does: asks that replica whether it leads, and if not, asks the
   * group's leader to hand leadership over, waiting up to {@code timeout}. Works whether or not
   * this node hosts the partition; the Raft client gives up after a few retries, so an unreachable
   * replica fails the call instead of blocking it.
   *
   * @param replicas the partition's replicas, preferred first, with their Raft addresses
   * @return false if the preferred replica already led, true if leadership moved to it
   * @throws IOException if the preferred replica is unreachable or the transfer failed
   */
  public boolean electPreferred(PartitionId id, List<RaftPeer> replicas, Duration timeout)
      throws IOException {
    final RaftPeer preferred = replicas.get(0);
    final RaftGroup group = RaftGroup.valueOf(id.groupId(), replicas);
    try (RaftClient client = clientFor(group, ELECTION_RETRIES)) {
      if (leads(client, preferred, id)) {
        return false;
      }
      final RaftClientReply reply;
      try {
        reply = client.admin().transferLeadership(preferred.getId(), timeout.toMillis());
      } catch (RuntimeException e) {
        throw new IOException("the leader of " + id + " is unreachable: " + e.getMessage(), e);
      }
      if (!reply.isSuccess()) {
        throw new IOException(
            "leadership of "
                + id
                + " did not move to "
                + preferred.getId()
                + ": "
                + reply.getException(),
            reply.getException());
      }
    }
    LOG.info("Preferred replica {} leads {} again", preferred.getId(), id);
    return true;
  }

  /** A partition's leader and its leader epoch (Raft term); epoch -1 when no replica told it. */
  public record LeaderEpoch(int nodeId, long epoch) {}

  /**
   * Asks the partition's replicas, in order, who leads its group, for a broker that hosts no
   * replica of it, until a majority of them answered: the answer with the newest term wins. A
   * leader that was cut off and replaced may still count itself leader, in its older term, until
   * its successor reaches it; any majority includes a replica of the newer term. A leader tells its
   * term; a follower names its leader with the term of its last log entry (the new leader's first
   * entry, once that reached it), and a leader's own answer wins a tie. Each replica is asked once,
   * without retries, so an unreachable one costs at most a connection failure.
   *
   * @return the leader and its epoch, if a replica knows one
   */
  public Optional<LeaderEpoch> findLeader(PartitionId id, List<RaftPeer> replicas) {
    final RaftGroup group = RaftGroup.valueOf(id.groupId(), replicas);
    LeaderEpoch best = null;
    boolean bestSelfReported = false;
    int answered = 0;
    try (RaftClient client = clientFor(group, RetryPolicies.noRetry())) {
      for (RaftPeer replica : replicas) {
        final Optional<GroupInfoReply> info = groupInfo(client, replica, id);
        if (info.isEmpty()) {
          continue;
        }
        answered++;
        final RoleInfoProto role = info.get().getRoleInfoProto();
        final boolean selfReported = role.getRole() == RaftPeerRole.LEADER;
        final Optional<LeaderEpoch> named = leaderNamedBy(replica, info.get());
        if (named.isPresent()
            && (best == null
                || named.get().epoch() > best.epoch()
                || (named.get().epoch() == best.epoch() && selfReported && !bestSelfReported))) {
          best = named.get();
          bestSelfReported = selfReported;
        }
        if (best != null && 2 * answered > replicas.size()) {
          break;
        }
      }
    } catch (IOException e) {
      LOG.debug("Cannot close the client asking who leads {}", id, e);
    }
    return Optional.ofNullable(best);
  }

  private static Optional<GroupInfoReply> groupInfo(
      RaftClient client, RaftPeer peer, PartitionId id) {
    try {
      final GroupInfoReply info = client.getGroupManagementApi(peer.getId()).info(id.groupId());
      return info.isSuccess() ? Optional.of(info) : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // unreachable or no longer hosting: ask the next replica
    }
  }

  private static Optional<LeaderEpoch> leaderNamedBy(RaftPeer peer, GroupInfoReply info) {
    final RoleInfoProto role = info.getRoleInfoProto();
    if (role.getRole() == RaftPeerRole.LEADER) {
      final long term = role.hasLeaderInfo() ? role.getLeaderInfo().getTerm() : -1;
      return Optional.of(new LeaderEpoch(RaftNode.nodeIdOf(peer.getId()), term));
    }
    if (role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()) {
      final String leader = role.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8();
      final int nodeId = RaftNode.nodeIdOf(leader);
      final long term =
          info.getLogInfoProto().hasLastEntry()
              ? info.getLogInfoProto().getLastEntry().getTerm()
              : -1;
      return nodeId < 0 ? Optional.empty() : Optional.of(new LeaderEpoch(nodeId, term));
    }
    return Optional.empty();
  }

  /** Asks {@code peer} whether it leads the partition's group. */
  private static boolean leads(RaftClient client, RaftPeer peer, PartitionId id)
      throws IOException {
    final GroupInfoReply info;
    try {
      info = client.getGroupManagementApi(peer.getId()).info(id.groupId());
    } catch (RuntimeException e) {
      // gRPC reports an unreachable peer unchecked (StatusRuntimeException: UNAVAILABLE).
      throw new IOException(peer.getId() + " is unreachable: " + e.getMessage(), e);
    }
    if (!info.isSuccess()) {
      throw new IOException(
          peer.getId() + " cannot report on " + id + ": " + info.getException(),
          info.getException());
    }
    return info.getRoleInfoProto().getRole() == RaftPeerRole.LEADER;
  }

  /**
   * Makes {@code targetVoters} the replicas of the partition.
   *
   * @param catchUpTimeout how long new replicas may take to catch up before this gives up (the
   *     group is then left with them as listeners, still safe; call again to finish)
   */
  public void reassign(PartitionId id, Collection<RaftPeer> targetVoters, Duration catchUpTimeout)
      throws IOException, InterruptedException {
    reassign(id, targetVoters, catchUpTimeout, () -> true);
  }

  /**
   * Makes {@code targetVoters} the replicas of the partition, unless {@code proceed} says no once
   * the new replicas have caught up: then the listeners are dropped again and the voters stay as
   * they were (how a cancelled or replaced reassignment backs out). Safe to call again after a
   * failure or on a new leader: a configuration already in place is kept as is.
   *
   * @return true if the target are the voters now, false if {@code proceed} stopped it
   */
  public boolean reassign(
      PartitionId id,
      Collection<RaftPeer> targetVoters,
      Duration catchUpTimeout,
      BooleanSupplier proceed)
      throws IOException, InterruptedException {
    final RaftServer.Division division = node.server().getDivision(id.groupId());
    final RaftConfiguration conf = division.getRaftConf();
    final List<RaftPeer> current = new ArrayList<>(conf.getCurrentPeers());
    final Set<RaftPeerId> currentIds =
        current.stream().map(RaftPeer::getId).collect(Collectors.toSet());
    final List<RaftPeer> added =
        targetVoters.stream().filter(p -> !currentIds.contains(p.getId())).toList();
    try (RaftClient client = changeClientFor(id)) {
      final ConfChange change =
          new ConfChange(
              client, id, current, new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER)));
      if (!added.isEmpty()) {
        requireStarted(id, added);
        LOG.info("{}: adding {} as listeners to catch up", id, ids(added));
        change.to(current, added);
        awaitCaughtUp(client, id, added, catchUpTimeout);
      }
      if (!proceed.getAsBoolean()) {
        LOG.info("{}: reassignment withdrawn; voters stay {}", id, ids(current));
        change.to(current, List.of());
        return false;
      }
      for (List<RaftPeer> step : VoterSteps.growth(current, targetVoters)) {
        LOG.info("{}: voters grow to {}", id, ids(step));
        change.to(step, VoterSteps.minus(added, step));
      }
      handOverIfLeaving(client, id, targetVoters);
      LOG.info("{}: voters become {}", id, ids(targetVoters));
      change.to(new ArrayList<>(targetVoters), List.of());
    }
    return true;
  }

  /**
   * Fails unless every new replica's broker has created and started its replica of the group. The
   * leader notifies a peer to install a snapshot as soon as the configuration names it, and Ratis
   * 3.3 refuses entries to a division until its start completes but not that notification, which
   * starts the division's follower state a second time: the group add fails ({@code previous !=
   * null}) and leaves the division half-started. Adding a peer only once it runs keeps that race
   * out of every move.
   */
  private void requireStarted(PartitionId id, List<RaftPeer> peers) throws IOException {
    try (RaftClient client =
        clientFor(RaftGroup.valueOf(id.groupId(), peers), RetryPolicies.noRetry())) {
      for (RaftPeer peer : peers) {
        final String why = notStartedReason(client, peer, id);
        if (why != null) {
          throw new IOException(
              id
                  + ": "
                  + peer.getId()
                  + " has not started its replica yet, which its broker does when it applies the"
                  + " move ("
                  + why
                  + ")");
        }
      }
    }
  }

  /** Why {@code peer} does not run its replica of the group yet; null if it does. */
  private static String notStartedReason(RaftClient client, RaftPeer peer, PartitionId id) {
    try {
      final GroupInfoReply info = client.getGroupManagementApi(peer.getId()).info(id.groupId());
      if (!info.isSuccess()) {
        return String.valueOf(info.getException());
      }
      return info.getRoleInfoProto().hasSelf() ? null : "its role is not set yet";
    } catch (IOException | RuntimeException e) {
      return e.toString(); // unreachable (gRPC reports that unchecked), or no such group there
    }
  }

  /**
   * A leader that is not in the target hands leadership to the first of the target's replicas that
   * already votes (the preferred leader takes over later, by preferred-leader election) before the
   * last change: Ratis would leave a leader outside its own configuration in place, answering (and
   * never completing) writes, and unable to leave the group.
   */
  private void handOverIfLeaving(RaftClient client, PartitionId id, Collection<RaftPeer> target)
      throws IOException {
    final RaftPeer self = node.self();
    final RaftServer.Division division = node.server().getDivision(id.groupId());
    if (VoterSteps.contains(target, self) || !division.getInfo().isLeader()) {
      return;
    }
    // Ratis hands leadership only to a voter. A new replica that the growth steps did not need
    // (one new beside two kept) is still a listener here, even when the target names it first.
    final Collection<RaftPeer> voters = division.getRaftConf().getCurrentPeers();
    final RaftPeer next =
        target.stream()
            .filter(p -> VoterSteps.contains(voters, p))
            .findFirst()
            .orElseThrow(
                () ->
                    new IOException(
                        id + ": no replica of the target " + ids(target) + " votes yet"));
    final RaftClientReply reply =
        client.admin().transferLeadership(next.getId(), HAND_OVER_TIMEOUT.toMillis());
    if (!reply.isSuccess()) {
      throw new IOException(
          id + ": leadership did not move to " + next.getId() + ": " + reply.getException(),
          reply.getException());
    }
    LOG.info("{}: leaving the group, handed leadership to {}", id, next.getId());
  }

  /** The broker ids of the group's non-voting listeners, as this replica knows the group. */
  public List<Integer> listeners(PartitionId id) throws IOException {
    return node
        .server()
        .getDivision(id.groupId())
        .getRaftConf()
        .getCurrentPeers(RaftPeerRole.LISTENER)
        .stream()
        .map(p -> RaftNode.nodeIdOf(p.getId()))
        .toList();
  }

  /**
   * Drops any non-voting listeners from the partition's group, keeping its voters: undoes the first
   * step of a reassignment that was cancelled before its switch. Runs on the leader.
   *
   * @return true if there were listeners to drop
   */
  public boolean dropListeners(PartitionId id) throws IOException {
    final RaftConfiguration conf = node.server().getDivision(id.groupId()).getRaftConf();
    if (conf.getCurrentPeers(RaftPeerRole.LISTENER).isEmpty()) {
      return false;
    }
    try (RaftClient client = changeClientFor(id)) {
      LOG.info("{}: dropping listeners {}", id, ids(conf.getCurrentPeers(RaftPeerRole.LISTENER)));
      final List<RaftPeer> voters = new ArrayList<>(conf.getCurrentPeers());
      new ConfChange(
              client, id, voters, new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER)))
          .to(voters, List.of());
    }
    return true;
  }

  /**
   * Whether the group's configuration, as its leader reports it, still names this node (as voter or
   * listener, in the current or the previous configuration). A replica may delete its data only
   * once this is false. Asks each peer this node knows until one that leads answers.
   *
   * @throws IOException if no leader could be asked: the answer is unknown, so keep the data
   */
  public boolean configurationIncludesSelf(PartitionId id) throws IOException {
    final RaftServer.Division division = node.server().getDivision(id.groupId());
    final String self = node.peerId().toString();
    try (RaftClient client = clientFor(groupOf(division), ELECTION_RETRIES)) {
      for (RaftPeer peer : division.getRaftConf().getAllPeers()) {
        if (peer.getId().equals(node.peerId())) {
          continue;
        }
        final Optional<RaftConfigurationProto> conf = leaderConf(client, peer, id);
        if (conf.isPresent()) {
          return names(conf.get(), self);
        }
      }
    }
    throw new IOException("no leader of " + id + " answered; cannot tell whether it left");
  }

  private static Optional<RaftConfigurationProto> leaderConf(
      RaftClient client, RaftPeer peer, PartitionId id) {
    try {
      final GroupInfoReply info = client.getGroupManagementApi(peer.getId()).info(id.groupId());
      if (info.isSuccess() && info.getRoleInfoProto().getRole() == RaftPeerRole.LEADER) {
        return info.getConf();
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: {} did not answer: {}", id, peer.getId(), e.toString());
    }
    return Optional.empty();
  }

  private static boolean names(RaftConfigurationProto conf, String peerId) {
    return java.util.stream.Stream.of(
            conf.getPeersList(),
            conf.getOldPeersList(),
            conf.getListenersList(),
            conf.getOldListenersList())
        .flatMap(List::stream)
        .anyMatch(p -> p.getId().toStringUtf8().equals(peerId));
  }

  /**
   * A chain of configuration changes, each made only if the group's configuration is still the one
   * the previous step left ({@code COMPARE_AND_SET}). A step worked out from a view that has gone
   * stale — a new leader's driver that read the configuration just before the leaving leader's last
   * change reached it — is refused and retried from a fresh view, instead of undoing that change:
   * made unconditionally, it brought a replica just moved away back as a voter, the leader waited
   * for a replica that no longer existed to catch up, and refused every later change of the group
   * ("Reconfiguration is already in progress"), so the next move or drain never finished.
   */
  private static final class ConfChange {
    private final RaftClient client;
    private final PartitionId id;
    private List<RaftPeer> voters;
    private List<RaftPeer> listeners;

    ConfChange(RaftClient client, PartitionId id, List<RaftPeer> voters, List<RaftPeer> listeners) {
      this.client = client;
      this.id = id;
      this.voters = voters;
      this.listeners = listeners;
    }

    void to(List<RaftPeer> newVoters, List<RaftPeer> newListeners) throws IOException {
      final RaftClientReply reply =
          client
              .admin()
              .setConfiguration(
                  SetConfigurationRequest.Arguments.newBuilder()
                      .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                      .setServersInCurrentConf(voters)
                      .setListenersInCurrentConf(listeners)
                      .setServersInNewConf(newVoters)
                      .setListenersInNewConf(newListeners)
                      .build());
      if (!reply.isSuccess()) {
        throw new IOException(
            "configuration change of " + id + " failed: " + reply.getException(),
            reply.getException());
      }
      voters = newVoters;
      listeners = newListeners;
    }
  }

  /** Waits until every added peer's commit index, as the leader reports it, reaches the group's. */
  private static void awaitCaughtUp(
      RaftClient client, PartitionId id, List<RaftPeer> added, Duration timeout)
      throws IOException, InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      final RaftClientReply reply =
          client.getGroupManagementApi(leaderOf(client, added)).info(id.groupId());
      final Collection<CommitInfoProto> infos = reply.getCommitInfos();
      final long groupCommit =
          infos.stream().mapToLong(CommitInfoProto::getCommitIndex).max().orElse(0);
      final boolean caughtUp =
          added.stream()
              .allMatch(
                  p ->
                      infos.stream()
                          .anyMatch(
                              i ->
                                  RaftPeerId.valueOf(i.getServer().getId()).equals(p.getId())
                                      && i.getCommitIndex() >= groupCommit - 1));
      if (caughtUp) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException(
            id + ": new replicas " + ids(added) + " did not catch up within " + timeout);
      }
      Thread.sleep(100);
    }
  }

  /** The leader the client last talked to (it reports every member's commit index). */
  private static RaftPeerId leaderOf(RaftClient client, List<RaftPeer> fallback) {
    final RaftPeerId leader = client.getLeaderId();
    return leader != null ? leader : fallback.get(0).getId();
  }

  private RaftClient clientFor(PartitionId id) throws IOException {
    return RaftClient.newBuilder()
        .setRaftGroup(groupOf(node.server().getDivision(id.groupId())))
        .setProperties(clientProperties)
        .setParameters(new Parameters())
        .build();
  }

  /** A client for configuration changes, which gives up after {@link #CHANGE_RETRIES}. */
  private RaftClient changeClientFor(PartitionId id) throws IOException {
    return clientFor(groupOf(node.server().getDivision(id.groupId())), CHANGE_RETRIES);
  }

  /**
   * The division's group as its configuration names it, each peer once. Ratis' own {@code
   * Division.getGroup()} throws {@code IllegalStateException} ("Found duplicated element") while a
   * reassignment promotes a listener: the transitional configuration names that peer as a listener
   * in its old half and as a voter in its new half. A replica that was moved away keeps such a
   * configuration for good (its group sends it nothing more), so every call on it would throw. The
   * voter's entry wins.
   */
  public static RaftGroup groupOf(RaftServer.Division division) {
    final RaftConfiguration conf = division.getRaftConf();
    final Map<RaftPeerId, RaftPeer> peers = new LinkedHashMap<>();
    conf.getAllPeers(RaftPeerRole.FOLLOWER).forEach(p -> peers.putIfAbsent(p.getId(), p));
    conf.getAllPeers(RaftPeerRole.LISTENER).forEach(p -> peers.putIfAbsent(p.getId(), p));
    return RaftGroup.valueOf(division.getMemberId().getGroupId(), peers.values());
  }

  private RaftClient clientFor(RaftGroup group, RetryPolicy retries) {
    return RaftClient.newBuilder()
        .setRaftGroup(group)
        .setProperties(clientProperties)
        .setParameters(new Parameters())
        .setRetryPolicy(retries)
        .build();
  }

  /** A peer as a non-voting listener, for a replica joining a group. */
  public static RaftPeer asListener(RaftPeer peer) {
    return RaftPeer.newBuilder(peer).setStartupRole(RaftPeerRole.LISTENER).build();
  }

  private static String ids(Collection<RaftPeer> peers) {
    return peers.stream().map(p -> p.getId().toString()).collect(Collectors.joining(","));
  }
}
