package io.skiff.broker;

import io.skiff.raft.RaftNode;
import io.skiff.raft.RaftRpcType;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records, for a test, what each broker of a {@link BrokerCluster} does with its replica of one
 * partition: every {@value #SAMPLE_MS} ms it samples whether the broker hosts a replica, its Raft
 * role and term, the leader it knows and the configuration it holds (asked over Ratis' group info,
 * as an operator's tool would), and the partition's replicas and reassignment in the metadata; a
 * line is logged whenever one of them changes, so a test's log shows, step by step, which broker's
 * reconciler created or removed a replica and which membership change each replica saw. {@link
 * #describe} gives the same picture on demand, for a failure message.
 *
 * <p>One sampling thread, {@code test-group-timeline}, owned by this object until {@link #close}.
 */
final class GroupTimeline implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GroupTimeline.class);
  private static final long SAMPLE_MS = 100;

  private final BrokerCluster cluster;
  private final Supplier<MetadataImage> image;
  private final String topic;
  private final int partition;
  private final Map<Integer, String> last = new TreeMap<>();
  private final Thread sampler;
  private volatile boolean stopped;

  GroupTimeline(BrokerCluster cluster, Supplier<MetadataImage> image, String topic, int partition) {
    this.cluster = cluster;
    this.image = image;
    this.topic = topic;
    this.partition = partition;
    this.sampler = new Thread(this::sampleUntilClosed, "test-group-timeline");
    sampler.setDaemon(true);
    sampler.start();
  }

  private void sampleUntilClosed() {
    while (!stopped) {
      try {
        final Map<Integer, String> now = sample(false);
        now.forEach(
            (key, state) -> {
              if (!state.equals(last.put(key, state))) {
                LOG.info("timeline {}: {}", key == 0 ? "metadata" : "broker " + key, state);
              }
            });
        Thread.sleep(SAMPLE_MS);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.info("timeline: sampling failed: {}", e.toString());
      }
    }
  }

  /** The state of the metadata (key 0) and of each broker's replica (key = node id). */
  private Map<Integer, String> sample(boolean withCommits) {
    final Map<Integer, String> states = new TreeMap<>();
    final MetadataImage metadata = image.get();
    final Optional<TopicInfo> info = metadata.topic(topic);
    if (info.isEmpty()) {
      return states;
    }
    final TopicInfo t = info.get();
    states.put(
        0,
        "replicas "
            + t.replicasOf(partition)
            + " reassignment "
            + t.reassignmentOf(partition).map(Object::toString).orElse("none")
            + " brokers "
            + metadata.brokers().values().stream()
                .map(b -> b.nodeId() + ":" + b.state().label())
                .collect(Collectors.joining(",")));
    final PartitionId id = t.partition(partition);
    for (int node : cluster.runningIds()) {
      states.put(node, replicaState(metadata, node, id, withCommits));
    }
    return states;
  }

  private String replicaState(
      MetadataImage metadata, int node, PartitionId id, boolean withCommits) {
    final Broker broker = cluster.broker(node);
    if (broker == null || broker.raft().partition(id).isEmpty()) {
      return "no replica";
    }
    final Optional<BrokerInfo> self = metadata.broker(node);
    if (self.isEmpty()) {
      return "hosted, not registered";
    }
    return "hosted, " + groupInfo(RaftNode.peer(node, self.get().raftAddress()), id, withCommits);
  }

  private static String groupInfo(RaftPeer peer, PartitionId id, boolean withCommits) {
    final RaftProperties properties = new RaftProperties();
    // The brokers' transport: a gRPC client's bytes on a Netty Raft port are a malformed frame.
    RaftConfigKeys.Rpc.setType(
        properties, SupportedRpcType.valueOfIgnoreCase(RaftRpcType.DEFAULT.configValue()));
    try (RaftClient client =
        RaftClient.newBuilder()
            .setRaftGroup(RaftGroup.valueOf(id.groupId(), List.of(peer)))
            .setProperties(properties)
            .setParameters(new Parameters())
            .setRetryPolicy(RetryPolicies.noRetry())
            .build()) {
      final GroupInfoReply reply = client.getGroupManagementApi(peer.getId()).info(id.groupId());
      if (!reply.isSuccess()) {
        return "group info failed: " + reply.getException();
      }
      final var role = reply.getRoleInfoProto();
      final String leader =
          role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()
              ? role.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8()
              : "-";
      final List<String> commits = new ArrayList<>();
      for (CommitInfoProto c : reply.getCommitInfos()) {
        commits.add(c.getServer().getId().toStringUtf8() + "@" + c.getCommitIndex());
      }
      return role.getRole()
          + " leader "
          + leader
          + " conf "
          + reply.getConf().map(GroupTimeline::conf).orElse("?")
          + (withCommits ? " commits " + commits : "");
    } catch (Exception e) {
      final String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
      return "no group info: " + why.substring(0, Math.min(160, why.length()));
    }
  }

  private static String conf(RaftConfigurationProto conf) {
    final String now = names(conf.getPeersList()) + "+L" + names(conf.getListenersList());
    if (conf.getOldPeersCount() == 0 && conf.getOldListenersCount() == 0) {
      return now;
    }
    return names(conf.getOldPeersList()) + "+L" + names(conf.getOldListenersList()) + " -> " + now;
  }

  private static String names(List<RaftPeerProto> peers) {
    return peers.stream()
        .map(p -> p.getId().toStringUtf8().replace("broker-", ""))
        .collect(Collectors.joining(",", "[", "]"));
  }

  /** Every broker's view of the group and the metadata's, one per line. */
  String describe() {
    return sample(true).entrySet().stream()
        .map(e -> (e.getKey() == 0 ? "metadata" : "broker " + e.getKey()) + ": " + e.getValue())
        .collect(Collectors.joining("\n"));
  }

  @Override
  public void close() {
    stopped = true;
    sampler.interrupt();
    try {
      sampler.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
