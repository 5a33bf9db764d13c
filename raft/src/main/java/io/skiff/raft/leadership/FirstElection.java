package io.skiff.raft.leadership;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionReplyProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets a newly created partition group its first leader about a second after a majority of its
 * voters host it, instead of after a full election timeout (20–40 s for partition groups at a
 * thousand groups per broker, see docs/raft-scaling.md). Only the group's <em>first</em> voter (the
 * preferred replica of the partition's assignment) is submitted here: it polls, once per {@link
 * #POLL_MS} for all its pending groups together, which groups each other voter hosts (one Ratis
 * group-list request per peer, then a group-info request per listed replica to see it started) and,
 * once a majority of a group's voters run it, starts the group's first election itself (Ratis'
 * {@code startLeaderElection}, the call a leader makes to hand over leadership). The other replicas
 * keep their long timeouts, so a new group has one candidate, not three, and a thousand new groups
 * cause no election storm.
 *
 * <p>Only a group that has never had an election is started: Ratis accepts the request only at the
 * group's current term (0 for a new group, whose log is empty), and this class drops a group as
 * soon as its term is above 0 or it has a leader. A group whose peers do not host it within {@code
 * giveUpMs} is left to the ordinary election timeouts.
 *
 * <p>Thread-safe: {@link #submit} may be called from any thread; polling and the clients to peers
 * belong to one named thread, {@code skiff-first-election-<node>}, stopped by {@link #close}.
 */
public final class FirstElection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FirstElection.class);

  /** How often pending groups are checked; also how long a new group waits at least. */
  public static final long POLL_MS = 300;

  /** Any group id but Ratis' reserved empty one: listing a server's groups names no group. */
  private static final RaftGroupId CLIENT_GROUP =
      RaftGroupId.valueOf(
          UUID.nameUUIDFromBytes("skiff/first-election".getBytes(StandardCharsets.UTF_8)));

  private final RaftServer server;
  private final RaftPeerId self;
  private final RaftProperties clientProperties;
  private final long giveUpNanos;
  private final ConcurrentHashMap<RaftGroupId, Pending> pending = new ConcurrentHashMap<>();
  private final Map<RaftPeer, RaftClient> clients = new HashMap<>(); // poller thread only
  private final ScheduledExecutorService poller;

  /** A group waiting for its first election; {@code majorityRunning} as of the last poll. */
  private record Pending(RaftGroup group, long deadlineNanos, boolean majorityRunning) {}

  public FirstElection(
      RaftServer server, RaftPeerId self, RaftProperties clientProperties, long giveUpMs) {
    this.server = server;
    this.self = self;
    this.clientProperties = clientProperties;
    this.giveUpNanos = TimeUnit.MILLISECONDS.toNanos(giveUpMs);
    this.poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              final Thread t = new Thread(r, "skiff-first-election-" + self);
              t.setDaemon(true);
              return t;
            });
    poller.scheduleWithFixedDelay(this::poll, POLL_MS, POLL_MS, TimeUnit.MILLISECONDS);
  }

  /** Starts the first election of {@code group}, just created here, once a majority hosts it. */
  public void submit(RaftGroup group) {
    pending.put(group.getGroupId(), new Pending(group, System.nanoTime() + giveUpNanos, false));
  }

  /** Groups still waiting for their first election (a gauge, and for tests). */
  int pendingCount() {
    return pending.size();
  }

  private void poll() {
    if (pending.isEmpty()) {
      return;
    }
    try {
      final Map<RaftPeerId, Set<RaftGroupId>> hostedBy = new HashMap<>();
      for (Pending p : pending.values()) {
        final RaftGroupId groupId = p.group().getGroupId();
        if (!stillNew(groupId)) {
          pending.remove(groupId);
        } else if (p.majorityRunning()) {
          pending.remove(groupId);
          start(groupId);
        } else if (majorityRuns(p.group(), hostedBy)) {
          pending.put(groupId, new Pending(p.group(), p.deadlineNanos(), true));
        } else if (System.nanoTime() - p.deadlineNanos() > 0) {
          pending.remove(groupId);
          LOG.info(
              "Peers of new group {} did not create it in time; its election timeout elects its"
                  + " first leader",
              groupId);
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("First-election poll failed; retrying in {} ms", POLL_MS, e);
    }
  }

  /** True while the group exists here, has no leader and never had an election. */
  private boolean stillNew(RaftGroupId groupId) {
    try {
      final RaftServer.Division division = server.getDivision(groupId);
      return division.getInfo().getCurrentTerm() == 0
          && division.getInfo().getLeaderId() == null
          && division.getInfo().isFollower();
    } catch (IOException e) {
      return false; // removed meanwhile
    }
  }

  /**
   * True if a majority of the group's voters run their replica: listed by their server (one list
   * per peer and poll) and started as a follower. A replica is listed while Ratis still builds it,
   * and refuses votes until it runs; it runs a moment after it has a role, so the election starts
   * one poll later.
   */
  private boolean majorityRuns(RaftGroup group, Map<RaftPeerId, Set<RaftGroupId>> hostedBy) {
    int voters = 0;
    int running = 0;
    for (RaftPeer peer : group.getPeers()) {
      if (peer.getStartupRole() != RaftPeerRole.FOLLOWER) {
        continue; // listeners do not vote
      }
      voters++;
      if (peer.getId().equals(self)
          || hostedBy
                  .computeIfAbsent(peer.getId(), id -> groupsOf(peer))
                  .contains(group.getGroupId())
              && hasRole(peer, group.getGroupId())) {
        running++;
      }
    }
    return running > voters / 2;
  }

  /**
   * True if {@code peer}'s replica of the group has started: it can describe its Raft role (Ratis
   * fails the request while the replica is built and has none).
   */
  private boolean hasRole(RaftPeer peer, RaftGroupId groupId) {
    try {
      return clients
              .computeIfAbsent(peer, this::newClient)
              .getGroupManagementApi(peer.getId())
              .info(groupId)
              .getRoleInfoProto()
              .getRole()
          == RaftPeerRole.FOLLOWER;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** The groups {@code peer} hosts now; empty if it cannot be asked (asked again next poll). */
  private Set<RaftGroupId> groupsOf(RaftPeer peer) {
    try {
      return new HashSet<>(
          clients
              .computeIfAbsent(peer, this::newClient)
              .getGroupManagementApi(peer.getId())
              .list()
              .getGroupIds());
    } catch (IOException | RuntimeException e) {
      LOG.debug("Cannot list the groups of {}: {}", peer, e.toString());
      closeClient(peer);
      return Set.of();
    }
  }

  private void start(RaftGroupId groupId) {
    final RaftGroupMemberId member = RaftGroupMemberId.valueOf(self, groupId);
    // A new group's log is empty and its term 0: the "leader's last entry" Ratis compares with
    // its own is (0, 0), and it refuses the request once the group's term has moved on.
    final StartLeaderElectionRequestProto request =
        StartLeaderElectionRequestProto.newBuilder()
            .setServerRequest(ClientProtoUtils.toRaftRpcRequestProtoBuilder(member, self))
            .setLeaderLastEntry(TermIndex.valueOf(0, 0).toProto())
            .build();
    try {
      final StartLeaderElectionReplyProto reply = server.startLeaderElection(request);
      if (!reply.getServerReply().getSuccess()) {
        LOG.debug("Group {} refused its first election (it elects by timeout)", groupId);
      }
    } catch (IOException | RuntimeException e) {
      LOG.info(
          "Cannot start the first election of {} ({}); it elects by timeout",
          groupId,
          e.toString());
    }
  }

  private RaftClient newClient(RaftPeer peer) {
    return RaftClient.newBuilder()
        .setRaftGroup(RaftGroup.valueOf(CLIENT_GROUP, peer))
        .setProperties(clientProperties)
        .setParameters(new Parameters())
        .setRetryPolicy(RetryPolicies.noRetry())
        .build();
  }

  private void closeClient(RaftPeer peer) {
    final RaftClient client = clients.remove(peer);
    if (client != null) {
      try {
        client.close();
      } catch (IOException e) {
        LOG.debug("Closing the client to {}: {}", peer, e.toString());
      }
    }
  }

  @Override
  public void close() {
    poller.shutdownNow();
    try {
      poller.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (RaftPeer peer : Set.copyOf(clients.keySet())) {
      closeClient(peer);
    }
    pending.clear();
  }
}
