package io.skiff.raft;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
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

  private final RaftNode node;
  private final RaftProperties clientProperties;

  PartitionMembership(RaftNode node, RaftProperties clientProperties) {
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
    final RaftServer.Division division = node.server().getDivision(id.groupId());
    final List<RaftPeer> current = new ArrayList<>(division.getRaftConf().getCurrentPeers());
    final Set<RaftPeerId> currentIds =
        current.stream().map(RaftPeer::getId).collect(Collectors.toSet());
    final List<RaftPeer> added =
        targetVoters.stream().filter(p -> !currentIds.contains(p.getId())).toList();
    try (RaftClient client = clientFor(id)) {
      if (!added.isEmpty()) {
        LOG.info("{}: adding {} as listeners to catch up", id, ids(added));
        setConfiguration(client, id, current, added);
        awaitCaughtUp(client, id, added, catchUpTimeout);
      }
      LOG.info("{}: voters become {}", id, ids(targetVoters));
      setConfiguration(client, id, new ArrayList<>(targetVoters), List.of());
    }
  }

  private static void setConfiguration(
      RaftClient client, PartitionId id, List<RaftPeer> voters, List<RaftPeer> listeners)
      throws IOException {
    final RaftClientReply reply =
        client
            .admin()
            .setConfiguration(
                SetConfigurationRequest.Arguments.newBuilder()
                    .setServersInNewConf(voters)
                    .setListenersInNewConf(listeners)
                    .build());
    if (!reply.isSuccess()) {
      throw new IOException(
          "configuration change of " + id + " failed: " + reply.getException(),
          reply.getException());
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
    final RaftGroup group = node.server().getDivision(id.groupId()).getGroup();
    return RaftClient.newBuilder()
        .setRaftGroup(group)
        .setProperties(clientProperties)
        .setParameters(new Parameters())
        .build();
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
  static RaftPeer asListener(RaftPeer peer) {
    return RaftPeer.newBuilder(peer).setStartupRole(RaftPeerRole.LISTENER).build();
  }

  private static String ids(Collection<RaftPeer> peers) {
    return peers.stream().map(p -> p.getId().toString()).collect(Collectors.joining(","));
  }
}
