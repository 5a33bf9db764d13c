package io.skiff.raft;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftServer;
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

  /** A peer as a non-voting listener, for a replica joining a group. */
  static RaftPeer asListener(RaftPeer peer) {
    return RaftPeer.newBuilder(peer).setStartupRole(RaftPeerRole.LISTENER).build();
  }

  private static String ids(Collection<RaftPeer> peers) {
    return peers.stream().map(p -> p.getId().toString()).collect(Collectors.joining(","));
  }
}
