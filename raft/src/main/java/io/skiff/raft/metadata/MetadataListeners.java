package io.skiff.raft.metadata;

import io.skiff.raft.RaftNode;
import io.skiff.raft.membership.PartitionMembership;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.ProtoUtils;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds brokers to, and removes them from, the metadata group's non-voting listeners: the 3 (or 5)
 * {@code metadata.voters} elect and commit, every other broker receives the log as a listener.
 *
 * <p>A joining broker first starts its own replica of the group (as a listener), then asks the
 * group's leader to add it ({@link #join}). Each change is a compare-and-set against the
 * configuration the leader reports, retried when another change got there first, so two brokers
 * joining at once are both added; a broker already listed changes nothing, so a restarted listener
 * rejoins without a duplicate. (Ratis 3.3's {@code ADD} mode would be simpler but drops the
 * listeners already present: its leader stages the request's listeners, not the merged list.)
 *
 * <p>Runs on the caller's thread, with Raft clients of the voters. Thread-safe.
 */
public final class MetadataListeners {
  private static final Logger LOG = LoggerFactory.getLogger(MetadataListeners.class);

  /** Enough to find the leader through a redirect or an election, then give up to our loop. */
  private static final RetryPolicy CHANGE_RETRIES =
      RetryPolicies.retryUpToMaximumCountWithFixedSleep(
          5, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS));

  private static final long RETRY_PAUSE_MS = 300;

  private final RaftServer server;
  private final List<RaftPeer> voters;
  private final RaftProperties clientProperties;

  public MetadataListeners(
      RaftServer server, List<RaftPeer> voters, RaftProperties clientProperties) {
    this.server = server;
    this.voters = List.copyOf(voters);
    this.clientProperties = clientProperties;
  }

  /** Whether broker {@code nodeId} is one of the configured voters. */
  public boolean isVoter(int nodeId) {
    return voters.stream().anyMatch(v -> RaftNode.nodeIdOf(v.getId()) == nodeId);
  }

  /**
   * Adds {@code self} to the metadata group's listeners through the leader, retrying (while the
   * group elects, or another change is in progress) until {@code timeout}. A no-op when it is a
   * listener already.
   *
   * @throws IOException if the leader did not add it in time
   */
  public void join(RaftPeer self, Duration timeout) throws IOException, InterruptedException {
    final RaftPeer listener = PartitionMembership.asListener(self);
    change(
        "add " + self.getId() + " to the metadata group's listeners",
        timeout,
        (currentVoters, currentListeners) -> {
          if (currentListeners.stream().anyMatch(p -> p.getId().equals(self.getId()))) {
            return null;
          }
          final List<RaftPeer> listeners = new ArrayList<>(currentListeners);
          listeners.add(listener);
          return listeners;
        });
    LOG.info("{} is a listener of the metadata group", self.getId());
  }

  /**
   * Removes broker {@code nodeId} from the metadata group's listeners (a decommissioned broker that
   * is gone for good), retrying until {@code timeout}.
   *
   * @return false if it was no listener of the group
   * @throws IllegalArgumentException if it is a voter, which this never removes
   * @throws IOException if the leader did not remove it in time
   */
  public boolean remove(int nodeId, Duration timeout) throws IOException, InterruptedException {
    if (isVoter(nodeId)) {
      throw new IllegalArgumentException(
          "broker " + nodeId + " is a metadata voter (metadata.voters); voters stay in the group");
    }
    final boolean[] present = {false};
    change(
        "remove broker " + nodeId + " from the metadata group's listeners",
        timeout,
        (currentVoters, currentListeners) -> {
          final List<RaftPeer> kept =
              currentListeners.stream()
                  .filter(p -> RaftNode.nodeIdOf(p.getId()) != nodeId)
                  .toList();
          if (kept.size() == currentListeners.size()) {
            return null;
          }
          present[0] = true;
          return kept;
        });
    if (present[0]) {
      LOG.info("Broker {} removed from the metadata group's listeners", nodeId);
    }
    return present[0];
  }

  /** The broker ids of the metadata group's listeners, as this broker's replica knows them. */
  public List<Integer> listeners() throws IOException {
    return server
        .getDivision(RaftNode.METADATA_GROUP)
        .getRaftConf()
        .getCurrentPeers(RaftPeerRole.LISTENER)
        .stream()
        .map(p -> RaftNode.nodeIdOf(p.getId()))
        .sorted()
        .toList();
  }

  /** The broker ids of the metadata group's voters, as this broker's replica knows them. */
  public List<Integer> voters() throws IOException {
    return server.getDivision(RaftNode.METADATA_GROUP).getRaftConf().getCurrentPeers().stream()
        .map(p -> RaftNode.nodeIdOf(p.getId()))
        .sorted()
        .toList();
  }

  /** The listeners wanted, given the leader's stable configuration; null when nothing changes. */
  private interface ListenerChange {
    List<RaftPeer> listeners(List<RaftPeer> voters, List<RaftPeer> listeners);
  }

  private void change(String what, Duration timeout, ListenerChange change)
      throws IOException, InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    try (RaftClient client = client()) {
      while (true) {
        Object failure;
        try {
          final RaftConfigurationProto conf = leaderConf(client);
          if (conf == null) {
            failure = "no voter answered as the leader";
          } else if (conf.getOldPeersCount() > 0 || conf.getOldListenersCount() > 0) {
            failure = "another configuration change is in progress";
          } else {
            final List<RaftPeer> currentVoters = ProtoUtils.toRaftPeers(conf.getPeersList());
            final List<RaftPeer> currentListeners = ProtoUtils.toRaftPeers(conf.getListenersList());
            final List<RaftPeer> wanted = change.listeners(currentVoters, currentListeners);
            if (wanted == null) {
              return;
            }
            final RaftClientReply reply =
                client
                    .admin()
                    .setConfiguration(
                        SetConfigurationRequest.Arguments.newBuilder()
                            .setServersInCurrentConf(currentVoters)
                            .setListenersInCurrentConf(currentListeners)
                            .setServersInNewConf(currentVoters)
                            .setListenersInNewConf(wanted)
                            .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                            .build());
            if (reply.isSuccess()) {
              return;
            }
            failure = reply.getException();
          }
        } catch (IOException | RuntimeException e) {
          failure = e; // no leader yet, another change in progress, or a stale compare-and-set
        }
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "could not "
                  + what
                  + " within "
                  + timeout.toSeconds()
                  + " s; a majority of metadata.voters must be up (last error: "
                  + failure
                  + ")");
        }
        LOG.debug("Retrying to {}: {}", what, failure);
        Thread.sleep(RETRY_PAUSE_MS);
      }
    }
  }

  /** The configuration as the group's leader reports it; null if no voter says it leads. */
  private RaftConfigurationProto leaderConf(RaftClient client) {
    for (RaftPeer voter : voters) {
      try {
        final GroupInfoReply info =
            client.getGroupManagementApi(voter.getId()).info(RaftNode.METADATA_GROUP);
        if (info.isSuccess()
            && info.getRoleInfoProto().getRole() == RaftPeerRole.LEADER
            && info.getConf().isPresent()) {
          return info.getConf().get();
        }
      } catch (IOException | RuntimeException e) {
        LOG.debug("Metadata voter {} did not answer: {}", voter.getId(), e.toString());
      }
    }
    return null;
  }

  private RaftClient client() {
    return RaftClient.newBuilder()
        .setRaftGroup(RaftGroup.valueOf(RaftNode.METADATA_GROUP, voters))
        .setProperties(clientProperties)
        .setParameters(new Parameters())
        .setRetryPolicy(CHANGE_RETRIES)
        .build();
  }
}
