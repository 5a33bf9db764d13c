package io.skiff.raft.metadata;

import io.skiff.raft.metadata.MetadataException.Error;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The mutable cluster metadata the metadata log builds, and the rules each command must pass. A
 * refused command changes nothing and yields an error {@link Result}; it is deterministic, so every
 * replica refuses alike.
 *
 * <p>Not thread-safe: only the metadata group's apply thread touches it; readers get {@link
 * MetadataImage}s.
 */
final class MetadataState {
  /** Outcome of one command. */
  record Result(Error error, String message, long value) {
    static final Result OK = new Result(Error.NONE, "", 0);

    static Result refused(Error error, String message) {
      return new Result(error, message, 0);
    }
  }

  private final TreeMap<Integer, BrokerInfo> brokers = new TreeMap<>();
  private final TreeMap<String, TopicInfo> topics = new TreeMap<>();
  private final Map<String, String> clusterConfigs = new HashMap<>();
  private long nextProducerId;

  MetadataImage image(long appliedIndex) {
    return new MetadataImage(appliedIndex, brokers, topics, clusterConfigs, nextProducerId);
  }

  Result apply(DataInputStream in) throws IOException {
    final Result result = applyCommand(in);
    BrokerTransition.settleDrains(brokers, topics);
    return result;
  }

  private Result applyCommand(DataInputStream in) throws IOException {
    final byte type = in.readByte();
    return switch (type) {
      case MetadataCommand.REGISTER_BROKER -> registerBroker(in);
      case MetadataCommand.DECOMMISSION_BROKER -> decommissionBroker(in.readInt());
      case MetadataCommand.CREATE_TOPIC -> createTopic(in);
      case MetadataCommand.DELETE_TOPIC -> deleteTopic(in.readUTF());
      case MetadataCommand.CREATE_PARTITIONS -> createPartitions(in.readUTF(), readReplicas(in));
      case MetadataCommand.ASSIGN_REPLICAS -> assignReplicas(in);
      case MetadataCommand.SET_CONFIGS -> setConfigs(in.readByte(), in.readUTF(), readConfigs(in));
      case MetadataCommand.ALLOCATE_PRODUCER_IDS -> allocateProducerIds(in.readInt());
      case MetadataCommand.ALTER_REASSIGNMENT -> alterReassignment(in);
      case MetadataCommand.COMPLETE_REASSIGNMENT -> completeReassignment(in);
      case MetadataCommand.SET_BROKER_STATE ->
          BrokerTransition.apply(brokers, topics, in.readInt(), BrokerState.ofCode(in.readByte()));
      default -> Result.refused(Error.INVALID_REQUEST, "unknown metadata command " + type);
    };
  }

  /** Registers or re-registers a broker; a restart keeps its state (maintenance, draining...). */
  private Result registerBroker(DataInputStream in) throws IOException {
    final int nodeId = in.readInt();
    final BrokerInfo known = brokers.get(nodeId);
    final BrokerState state = known == null ? BrokerState.ACTIVE : known.state();
    final BrokerInfo b =
        new BrokerInfo(nodeId, in.readUTF(), in.readInt(), in.readInt(), in.readUTF(), state);
    brokers.put(b.nodeId(), b);
    return Result.OK;
  }

  private Result decommissionBroker(int nodeId) {
    final BrokerInfo b = brokers.get(nodeId);
    if (b == null) {
      return Result.refused(Error.UNKNOWN_BROKER, "broker " + nodeId + " is not registered");
    }
    brokers.put(nodeId, b.decommissioned());
    return Result.OK;
  }

  private Result createTopic(DataInputStream in) throws IOException {
    final String name = in.readUTF();
    final UUID id = new UUID(in.readLong(), in.readLong());
    final List<List<Integer>> replicas = readReplicas(in);
    final Map<String, String> configs = readConfigs(in);
    if (topics.containsKey(name)) {
      return Result.refused(Error.TOPIC_ALREADY_EXISTS, "topic '" + name + "' already exists");
    }
    if (replicas.isEmpty()) {
      return Result.refused(Error.INVALID_PARTITIONS, "a topic needs at least one partition");
    }
    final Result bad = checkAssignment(replicas);
    if (bad != null) {
      return bad;
    }
    configs.values().removeIf(v -> v == null);
    topics.put(name, new TopicInfo(name, id, replicas, configs));
    return Result.OK;
  }

  private Result deleteTopic(String name) {
    return topics.remove(name) == null
        ? Result.refused(Error.UNKNOWN_TOPIC, "topic '" + name + "' does not exist")
        : Result.OK;
  }

  private Result createPartitions(String name, List<List<Integer>> added) {
    final TopicInfo topic = topics.get(name);
    if (topic == null) {
      return Result.refused(Error.UNKNOWN_TOPIC, "topic '" + name + "' does not exist");
    }
    if (added.isEmpty()) {
      return Result.refused(
          Error.INVALID_PARTITIONS, "topic '" + name + "' already has that many partitions");
    }
    final Result bad = checkAssignment(added);
    if (bad != null) {
      return bad;
    }
    final List<List<Integer>> all = new ArrayList<>(topic.replicas());
    all.addAll(added);
    topics.put(name, topic.withReplicas(all));
    return Result.OK;
  }

  private Result assignReplicas(DataInputStream in) throws IOException {
    final String name = in.readUTF();
    final int partition = in.readInt();
    final List<List<Integer>> replicas = readReplicas(in);
    final TopicInfo topic = topics.get(name);
    if (topic == null) {
      return Result.refused(Error.UNKNOWN_TOPIC, "topic '" + name + "' does not exist");
    }
    if (partition < 0 || partition >= topic.partitionCount()) {
      return Result.refused(
          Error.INVALID_PARTITIONS, "topic '" + name + "' has no partition " + partition);
    }
    final Result bad = checkAssignment(replicas);
    if (bad != null) {
      return bad;
    }
    final List<List<Integer>> all = new ArrayList<>(topic.replicas());
    all.set(partition, replicas.get(0));
    topics.put(name, topic.withReplicas(all));
    return Result.OK;
  }

  /**
   * Starts, replaces or (with no target) cancels the reassignment of one partition. A target with
   * the same brokers as the replicas needs no data to move: it becomes the replica list at once.
   */
  private Result alterReassignment(DataInputStream in) throws IOException {
    final String name = in.readUTF();
    final int partition = in.readInt();
    final List<Integer> target = in.readBoolean() ? readReplicas(in).get(0) : null;
    final TopicInfo topic = topics.get(name);
    final Result unknown = checkPartition(topic, name, partition);
    if (unknown != null) {
      return unknown;
    }
    final Map<Integer, List<Integer>> reassignments = new HashMap<>(topic.reassignments());
    if (target == null) {
      if (reassignments.remove(partition) == null) {
        return Result.refused(
            Error.NO_REASSIGNMENT_IN_PROGRESS,
            "partition " + name + "-" + partition + " has no reassignment to cancel");
      }
      topics.put(name, topic.withReassignments(reassignments));
      return Result.OK;
    }
    final Result bad = checkTarget(target, topic.replicasOf(partition));
    if (bad != null) {
      return bad;
    }
    if (new HashSet<>(target).equals(new HashSet<>(topic.replicasOf(partition)))) {
      reassignments.remove(partition);
      topics.put(name, withReplica(topic, partition, target).withReassignments(reassignments));
      return Result.OK;
    }
    reassignments.put(partition, target);
    topics.put(name, topic.withReassignments(reassignments));
    return Result.OK;
  }

  /**
   * Records that the partition's Raft voters are now {@code voters}: they become its replica list,
   * and the reassignment that targeted them ends. The switch has already happened in Raft, so this
   * is a fact to record even if the reassignment was cancelled meanwhile; a newer target stays.
   */
  private Result completeReassignment(DataInputStream in) throws IOException {
    final String name = in.readUTF();
    final int partition = in.readInt();
    final List<Integer> voters = readReplicas(in).get(0);
    final TopicInfo topic = topics.get(name);
    final Result unknown = checkPartition(topic, name, partition);
    if (unknown != null) {
      return unknown;
    }
    if (voters.isEmpty()) {
      return Result.refused(Error.INVALID_REPLICA_ASSIGNMENT, "a partition needs a replica");
    }
    final Map<Integer, List<Integer>> reassignments = new HashMap<>(topic.reassignments());
    reassignments.remove(partition, voters);
    topics.put(name, withReplica(topic, partition, voters).withReassignments(reassignments));
    return Result.OK;
  }

  private static TopicInfo withReplica(TopicInfo topic, int partition, List<Integer> replicas) {
    final List<List<Integer>> all = new ArrayList<>(topic.replicas());
    all.set(partition, replicas);
    return topic.withReplicas(all);
  }

  private static Result checkPartition(TopicInfo topic, String name, int partition) {
    if (topic == null) {
      return Result.refused(Error.UNKNOWN_TOPIC, "topic '" + name + "' does not exist");
    }
    if (partition < 0 || partition >= topic.partitionCount()) {
      return Result.refused(
          Error.UNKNOWN_TOPIC,
          "topic '" + name + "' has " + topic.partitionCount() + " partitions, no " + partition);
    }
    return null;
  }

  /** A target must be a valid replica list, and brokers it adds must accept new replicas. */
  private Result checkTarget(List<Integer> target, List<Integer> current) {
    final Result bad = checkAssignment(List.of(target));
    if (bad != null) {
      return bad;
    }
    for (int node : target) {
      final BrokerState state = brokers.get(node).state();
      if (!current.contains(node) && !state.acceptsReplicas()) {
        return Result.refused(
            Error.INVALID_REPLICA_ASSIGNMENT,
            "broker " + node + " is " + state.label() + "; choose an active broker");
      }
    }
    return null;
  }

  private Result setConfigs(byte scope, String resource, Map<String, String> changes) {
    final Map<String, String> target;
    if (scope == MetadataCommand.SCOPE_CLUSTER || scope == MetadataCommand.SCOPE_BROKER) {
      target = clusterConfigs; // per-broker overrides live in each broker's properties file
    } else if (scope == MetadataCommand.SCOPE_TOPIC) {
      final TopicInfo topic = topics.get(resource);
      if (topic == null) {
        return Result.refused(Error.UNKNOWN_TOPIC, "topic '" + resource + "' does not exist");
      }
      final Map<String, String> merged = new HashMap<>(topic.configs());
      apply(merged, changes);
      topics.put(resource, topic.withConfigs(merged));
      return Result.OK;
    } else {
      return Result.refused(Error.INVALID_REQUEST, "unknown config scope " + scope);
    }
    apply(target, changes);
    return Result.OK;
  }

  private static void apply(Map<String, String> target, Map<String, String> changes) {
    for (Map.Entry<String, String> e : changes.entrySet()) {
      if (e.getValue() == null) {
        target.remove(e.getKey());
      } else {
        target.put(e.getKey(), e.getValue());
      }
    }
  }

  private Result allocateProducerIds(int count) {
    if (count <= 0) {
      return Result.refused(Error.INVALID_REQUEST, "producer id block must be > 0");
    }
    final long first = nextProducerId;
    nextProducerId += count;
    return new Result(Error.NONE, "", first);
  }

  /** Replica lists must be non-empty, name registered brokers, and not repeat a broker. */
  private Result checkAssignment(List<List<Integer>> replicas) {
    for (List<Integer> partition : replicas) {
      if (partition.isEmpty() || new HashSet<>(partition).size() != partition.size()) {
        return Result.refused(
            Error.INVALID_REPLICA_ASSIGNMENT,
            "replica list " + partition + " is empty or repeats a broker");
      }
      for (int node : partition) {
        if (!brokers.containsKey(node)) {
          return Result.refused(
              Error.INVALID_REPLICA_ASSIGNMENT, "replica list names unknown broker " + node);
        }
      }
    }
    return null;
  }

  static List<List<Integer>> readReplicas(DataInputStream in) throws IOException {
    final int n = in.readInt();
    final List<List<Integer>> replicas = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      final int m = in.readInt();
      final List<Integer> partition = new ArrayList<>(m);
      for (int j = 0; j < m; j++) {
        partition.add(in.readInt());
      }
      replicas.add(partition);
    }
    return replicas;
  }

  static Map<String, String> readConfigs(DataInputStream in) throws IOException {
    final int n = in.readInt();
    final Map<String, String> configs = new HashMap<>();
    for (int i = 0; i < n; i++) {
      final String key = in.readUTF();
      configs.put(key, in.readBoolean() ? in.readUTF() : null);
    }
    return configs;
  }

  /** Snapshot: the whole state, in the command field encodings. */
  void writeTo(DataOutputStream out) throws IOException {
    out.writeLong(nextProducerId);
    out.writeInt(brokers.size());
    for (BrokerInfo b : brokers.values()) {
      out.writeInt(b.nodeId());
      out.writeUTF(b.host());
      out.writeInt(b.kafkaPort());
      out.writeInt(b.raftPort());
      out.writeUTF(b.rack());
      out.writeByte(b.state().code());
    }
    out.writeInt(topics.size());
    for (TopicInfo t : topics.values()) {
      out.writeUTF(t.name());
      out.writeLong(t.id().getMostSignificantBits());
      out.writeLong(t.id().getLeastSignificantBits());
      MetadataCommand.writeReplicas(out, t.replicas());
      MetadataCommand.writeConfigs(out, t.configs());
    }
    MetadataCommand.writeConfigs(out, clusterConfigs);
    writeReassignments(out);
  }

  /**
   * Reassignments trail the snapshot, so snapshots taken before they existed still read: topic
   * count, then per topic its name and the target replicas by partition.
   */
  private void writeReassignments(DataOutputStream out) throws IOException {
    final List<TopicInfo> moving =
        topics.values().stream().filter(t -> !t.reassignments().isEmpty()).toList();
    out.writeInt(moving.size());
    for (TopicInfo t : moving) {
      out.writeUTF(t.name());
      out.writeInt(t.reassignments().size());
      for (Map.Entry<Integer, List<Integer>> e : t.reassignments().entrySet()) {
        out.writeInt(e.getKey());
        MetadataCommand.writeReplicas(out, List.of(e.getValue()));
      }
    }
  }

  private void readReassignments(DataInputStream in) throws IOException {
    final int count;
    try {
      count = in.readInt();
    } catch (EOFException e) {
      return; // a snapshot from before reassignments
    }
    for (int i = 0; i < count; i++) {
      final String name = in.readUTF();
      final Map<Integer, List<Integer>> targets = new HashMap<>();
      for (int j = in.readInt(); j > 0; j--) {
        targets.put(in.readInt(), readReplicas(in).get(0));
      }
      topics.put(name, topics.get(name).withReassignments(targets));
    }
  }

  void readFrom(DataInputStream in) throws IOException {
    brokers.clear();
    topics.clear();
    clusterConfigs.clear();
    nextProducerId = in.readLong();
    for (int i = in.readInt(); i > 0; i--) {
      final BrokerInfo b =
          new BrokerInfo(
              in.readInt(),
              in.readUTF(),
              in.readInt(),
              in.readInt(),
              in.readUTF(),
              BrokerState.ofCode(in.readByte()));
      brokers.put(b.nodeId(), b);
    }
    for (int i = in.readInt(); i > 0; i--) {
      final String name = in.readUTF();
      final UUID id = new UUID(in.readLong(), in.readLong());
      topics.put(name, new TopicInfo(name, id, readReplicas(in), readConfigs(in)));
    }
    clusterConfigs.putAll(readConfigs(in));
    readReassignments(in);
  }
}
