package io.skiff.broker.api;

import io.skiff.raft.RaftNode;
import io.skiff.raft.membership.PartitionMembership;
import io.skiff.raft.membership.PartitionMembership.LeaderEpoch;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.MetadataService;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.ReplicatedPartition;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.Uuid;

/**
 * The broker's view of the cluster for request handlers: topics from the local metadata image, this
 * broker's replicas, and who leads each partition (known exactly for partitions hosted here; for
 * the others, what their replicas last said, through {@link RemoteLeaders}). Thread-safe: reads an
 * immutable image and thread-safe replicas.
 */
public final class ClusterView {
  private final int selfId;
  private final RaftNode raft;
  private final MetadataService metadata;
  private final RemoteLeaders remoteLeaders;

  public ClusterView(
      int selfId, RaftNode raft, MetadataService metadata, RemoteLeaders remoteLeaders) {
    this.selfId = selfId;
    this.raft = raft;
    this.metadata = metadata;
    this.remoteLeaders = remoteLeaders;
  }

  public int selfId() {
    return selfId;
  }

  public MetadataService metadata() {
    return metadata;
  }

  public MetadataImage image() {
    return metadata.image();
  }

  public Optional<TopicInfo> topic(String name) {
    return name == null ? Optional.empty() : image().topic(name);
  }

  public Optional<TopicInfo> topic(Uuid id) {
    if (id == null || id.equals(Uuid.ZERO_UUID)) {
      return Optional.empty();
    }
    return Optional.ofNullable(byId().get(id));
  }

  /** Topics by Kafka id, rebuilt only when the metadata image changes. */
  private Map<Uuid, TopicInfo> byId() {
    final MetadataImage image = image();
    IdIndex index = idIndex;
    if (index == null || index.image() != image) {
      final Map<Uuid, TopicInfo> map = new HashMap<>();
      image.topics().values().forEach(t -> map.put(kafkaId(t), t));
      index = new IdIndex(image, map);
      idIndex = index;
    }
    return index.topics();
  }

  private record IdIndex(MetadataImage image, Map<Uuid, TopicInfo> topics) {}

  private volatile IdIndex idIndex;

  /** A topic by name, or by id when the request version identifies topics by id. */
  public Optional<TopicInfo> topic(String name, Uuid id) {
    final Optional<TopicInfo> byId = topic(id);
    return byId.isPresent() ? byId : topic(name);
  }

  public static Uuid kafkaId(TopicInfo topic) {
    return new Uuid(topic.id().getMostSignificantBits(), topic.id().getLeastSignificantBits());
  }

  /** This broker's replica of a partition, if it hosts one. */
  public Optional<ReplicatedPartition> local(TopicInfo topic, int partition) {
    if (partition < 0 || partition >= topic.partitionCount()) {
      return Optional.empty();
    }
    return raft.partition(topic.partition(partition));
  }

  /**
   * The leader's node id: exact if hosted here; else what the replicas last said (the preferred
   * replica until they have); -1 if unknown.
   */
  public int leaderOf(TopicInfo topic, int partition) {
    return leader(topic, partition).nodeId();
  }

  /**
   * The leader as {@link #leaderOf} names it, with its epoch (Raft term): this replica's term if
   * hosted here; else the term the replicas told ({@link RemoteLeaders#leader}), -1 if unknown.
   */
  public LeaderEpoch leader(TopicInfo topic, int partition) {
    final Optional<ReplicatedPartition> local = local(topic, partition);
    if (local.isPresent()) {
      return new LeaderEpoch(local.get().leaderNodeId().orElse(-1), local.get().leaderEpoch());
    }
    return remoteLeaders.leader(topic, partition);
  }

  /** The replicas this broker hosts. */
  public java.util.Collection<ReplicatedPartition> localReplicas() {
    return raft.partitions();
  }

  /** The directory that holds this broker's partition logs. */
  public java.nio.file.Path logDir() {
    return raft.config().dataDir().resolve("log");
  }

  /** Leader transfers (preferred leader elections) of any partition, hosted here or not. */
  public PartitionMembership membership() {
    return raft.membership();
  }

  public Optional<BrokerInfo> broker(int nodeId) {
    return image().broker(nodeId);
  }
}
