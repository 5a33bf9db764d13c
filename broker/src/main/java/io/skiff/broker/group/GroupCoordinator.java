package io.skiff.broker.group;

import com.codahale.metrics.MetricRegistry;
import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.MetadataService;
import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group coordinator of one broker: it coordinates the groups whose id hashes to a partition of
 * {@code __consumer_offsets} that this broker leads (Kafka's placement: {@code
 * abs(groupId.hashCode()) % partitions}). Group metadata (after each rebalance) and committed
 * offsets are written to that partition with {@code acks=all}, so they are replicated by its Raft
 * group; a broker that becomes leader replays the partition's log before answering (until then:
 * COORDINATOR_LOAD_IN_PROGRESS), and one that stops leading drops its groups (NOT_COORDINATOR).
 *
 * <p>Threads: requests arrive on handler threads; {@code skiff-group-timer} polls leadership of the
 * offsets partitions and drives the groups' timers every {@value #TICK_MS} ms and offset expiry
 * every minute; {@code skiff-group-loader} replays logs. Thread-safe.
 */
public final class GroupCoordinator implements AutoCloseable {
  public static final String OFFSETS_TOPIC = "__consumer_offsets";

  /**
   * Kafka's {@code offsets.topic.segment.bytes}: small, so that the cleaner reaches old commits.
   */
  static final int OFFSETS_SEGMENT_BYTES = 100 * 1024 * 1024;

  static final long TICK_MS = 100;
  private static final long EXPIRY_CHECK_MS = TimeUnit.MINUTES.toMillis(1);
  private static final int MAX_METADATA_CHARS = 4096;
  private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinator.class);

  private final GroupConfig config;
  private final MetadataService metadata;
  private final OffsetCache cache;
  private final ScheduledExecutorService timer;
  private final CoordinatorLog log;
  private final CoordinatedPartitions partitions;
  private final AtomicBoolean creatingTopic = new AtomicBoolean();
  private final AtomicLong lastTick = new AtomicLong();
  private long lastExpiryCheck = System.currentTimeMillis();

  public GroupCoordinator(
      GroupConfig config, RaftNode raft, MetadataService metadata, MetricRegistry metrics) {
    this.config = config;
    this.metadata = metadata;
    this.cache = new OffsetCache(config.offsetsCacheMaxEntries(), metrics);
    this.timer = Executors.newSingleThreadScheduledExecutor(named("skiff-group-timer"));
    this.log = new CoordinatorLog(config.offsetCommitTimeoutMs());
    this.partitions = new CoordinatedPartitions(raft, config, cache, log);
    metrics.gauge("groups.coordinated.partitions", () -> partitions::size);
    metrics.gauge("groups.coordinated", () -> this::groupCount);
    metrics.gauge("groups.timer.last.tick.ms", () -> lastTick::get);
  }

  private static java.util.concurrent.ThreadFactory named(String name) {
    return r -> {
      final Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  public void start() {
    timer.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
  }

  public GroupConfig config() {
    return config;
  }

  public OffsetCache cache() {
    return cache;
  }

  private static long now() {
    return System.currentTimeMillis();
  }

  // ---- placement -----------------------------------------------------------------------------

  /** The offsets topic, creating it (asynchronously) when it does not exist yet. */
  public Optional<TopicInfo> offsetsTopic() {
    final Optional<TopicInfo> topic = metadata.image().topic(OFFSETS_TOPIC);
    if (topic.isEmpty()) {
      createOffsetsTopic();
    }
    return topic;
  }

  /** Kafka's placement: {@code Utils.abs(groupId.hashCode()) % partitions}. */
  public static int partitionFor(String groupId, int partitions) {
    final int hash = groupId.hashCode();
    return (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % partitions;
  }

  private void createOffsetsTopic() {
    if (!creatingTopic.compareAndSet(false, true)) {
      return;
    }
    final int brokers = Math.max(1, metadata.image().brokers().size());
    final int rf = Math.min(config.offsetsTopicReplicationFactor(), brokers);
    LOG.info(
        "Creating {} with {} partitions, replication factor {}",
        OFFSETS_TOPIC,
        config.offsetsTopicPartitions(),
        rf);
    metadata
        .createTopic(
            OFFSETS_TOPIC,
            config.offsetsTopicPartitions(),
            rf,
            Map.of(
                "cleanup.policy",
                "compact",
                "retention.ms",
                "-1",
                "retention.bytes",
                "-1",
                "segment.bytes",
                Integer.toString(OFFSETS_SEGMENT_BYTES)))
        .whenComplete(
            (topic, error) -> {
              creatingTopic.set(false);
              if (error != null && metadata.image().topic(OFFSETS_TOPIC).isEmpty()) {
                LOG.warn("Could not create {}: {}", OFFSETS_TOPIC, error.toString());
              }
            });
  }

  /** The partition coordinating {@code groupId} here, or the error telling the client why not. */
  private record Routed(Errors error, OffsetsPartition partition) {}

  private Routed route(String groupId) {
    if (groupId == null || groupId.isEmpty()) {
      return new Routed(Errors.INVALID_GROUP_ID, null);
    }
    final Optional<TopicInfo> topic = offsetsTopic();
    if (topic.isEmpty()) {
      return new Routed(Errors.COORDINATOR_NOT_AVAILABLE, null);
    }
    final OffsetsPartition partition =
        partitions.get(partitionFor(groupId, topic.get().partitionCount()));
    if (partition == null || !partition.leading()) {
      return new Routed(Errors.NOT_COORDINATOR, null);
    }
    if (!partition.loaded()) {
      return new Routed(Errors.COORDINATOR_LOAD_IN_PROGRESS, null);
    }
    return new Routed(Errors.NONE, partition);
  }

  /** The routing error for {@code groupId} (NONE when this broker coordinates it, loaded). */
  public Errors coordinatorError(String groupId) {
    return route(groupId).error();
  }

  private ClassicGroup newGroup(OffsetsPartition partition, String groupId) {
    return partitions.newGroup(partition, groupId);
  }

  // ---- membership ----------------------------------------------------------------------------

  public CompletableFuture<JoinGroupResponseData> join(String groupId, JoinRequest request) {
    final Routed routed = route(groupId);
    if (routed.error() != Errors.NONE) {
      return CompletableFuture.completedFuture(
          ClassicGroup.joinErrorResponse(routed.error(), request.memberId()));
    }
    final Map<String, ClassicGroup> groups = routed.partition().groups;
    final ClassicGroup group =
        request.memberId().isEmpty()
            ? groups.computeIfAbsent(groupId, id -> newGroup(routed.partition(), id))
            : groups.get(groupId);
    if (group == null) {
      return CompletableFuture.completedFuture(
          ClassicGroup.joinErrorResponse(Errors.UNKNOWN_MEMBER_ID, request.memberId()));
    }
    return group.join(request, now());
  }

  public CompletableFuture<SyncGroupResponseData> sync(
      String groupId,
      String memberId,
      String instanceId,
      int generation,
      Map<String, byte[]> assignments) {
    final Routed routed = route(groupId);
    if (routed.error() != Errors.NONE) {
      return CompletableFuture.completedFuture(ClassicGroup.syncError(routed.error()));
    }
    final ClassicGroup group = routed.partition().groups.get(groupId);
    if (group == null) {
      return CompletableFuture.completedFuture(ClassicGroup.syncError(Errors.UNKNOWN_MEMBER_ID));
    }
    return group.sync(memberId, instanceId, generation, assignments, now());
  }

  public Errors heartbeat(String groupId, String memberId, String instanceId, int generation) {
    final Routed routed = route(groupId);
    if (routed.error() != Errors.NONE) {
      return routed.error();
    }
    final ClassicGroup group = routed.partition().groups.get(groupId);
    return group == null
        ? Errors.UNKNOWN_MEMBER_ID
        : group.heartbeat(memberId, instanceId, generation, now());
  }

  public Errors leave(String groupId, String memberId, String instanceId) {
    final Routed routed = route(groupId);
    if (routed.error() != Errors.NONE) {
      return routed.error();
    }
    final ClassicGroup group = routed.partition().groups.get(groupId);
    return group == null ? Errors.UNKNOWN_MEMBER_ID : group.leave(memberId, instanceId, now());
  }

  // ---- offsets -------------------------------------------------------------------------------

  /**
   * Commits offsets after checking the member's generation: all partitions are written in one batch
   * with {@code acks=all}, and enter the cache once replicated.
   */
  public CompletableFuture<Map<TopicPartition, Errors>> commit(
      String groupId,
      String memberId,
      String instanceId,
      int generation,
      Map<TopicPartition, CommittedOffset> offsets) {
    final Routed routed = route(groupId);
    Errors error = routed.error();
    ClassicGroup group = null;
    if (error == Errors.NONE) {
      final Map<String, ClassicGroup> groups = routed.partition().groups;
      group =
          generation < 0
              ? groups.computeIfAbsent(groupId, id -> newGroup(routed.partition(), id))
              : groups.get(groupId);
      error =
          group == null
              ? Errors.ILLEGAL_GENERATION
              : group.validateCommit(memberId, instanceId, generation);
    }
    if (error == Errors.NONE && !cache.admits(groupId, offsets.keySet())) {
      LOG.warn(
          "Refused a commit of group {}: the offset cache holds {} entries, its maximum"
              + " (offsets.cache.max.entries); raise it or delete unused groups",
          groupId,
          cache.entries());
      error = Errors.COORDINATOR_NOT_AVAILABLE;
    }
    if (error != Errors.NONE) {
      return CompletableFuture.completedFuture(allFailed(offsets.keySet(), error));
    }
    return writeOffsets(routed.partition(), groupId, offsets);
  }

  private CompletableFuture<Map<TopicPartition, Errors>> writeOffsets(
      OffsetsPartition partition, String groupId, Map<TopicPartition, CommittedOffset> offsets) {
    final Map<TopicPartition, Errors> result = new HashMap<>();
    final List<SimpleRecord> records = new ArrayList<>();
    final long now = now();
    offsets.forEach(
        (tp, offset) -> {
          if (offset.metadata().length() > MAX_METADATA_CHARS) {
            result.put(tp, Errors.OFFSET_METADATA_TOO_LARGE);
          } else {
            records.add(CoordinatorRecords.offset(now, groupId, tp, offset));
          }
        });
    if (records.isEmpty()) {
      return CompletableFuture.completedFuture(result);
    }
    return log.write(partition, records)
        .thenApply(
            error -> {
              offsets.forEach(
                  (tp, offset) -> {
                    if (result.containsKey(tp)) {
                      return;
                    }
                    result.put(tp, error);
                    if (error == Errors.NONE) {
                      cache.put(groupId, tp, offset);
                    }
                  });
              return result;
            });
  }

  private static Map<TopicPartition, Errors> allFailed(
      Collection<TopicPartition> partitions, Errors error) {
    final Map<TopicPartition, Errors> result = new HashMap<>();
    partitions.forEach(tp -> result.put(tp, error));
    return result;
  }

  /** A group's committed offsets, or the error that prevents reading them. */
  public record Offsets(Errors error, Map<TopicPartition, CommittedOffset> offsets) {}

  /** The committed offsets of {@code groupId}: all of them when {@code partitions} is null. */
  public Offsets fetchOffsets(String groupId, Collection<TopicPartition> partitions) {
    final Errors error = route(groupId).error();
    if (error != Errors.NONE) {
      return new Offsets(error, Map.of());
    }
    final Map<TopicPartition, CommittedOffset> all = cache.offsets(groupId);
    if (partitions == null) {
      return new Offsets(Errors.NONE, all);
    }
    final Map<TopicPartition, CommittedOffset> some = new HashMap<>();
    for (TopicPartition tp : partitions) {
      final CommittedOffset offset = all.get(tp);
      if (offset != null) {
        some.put(tp, offset);
      }
    }
    return new Offsets(Errors.NONE, some);
  }

  // ---- admin ---------------------------------------------------------------------------------

  /** A group as ListGroups reports it. */
  public record Listed(String groupId, String protocolType, GroupState state) {}

  /** How many groups this broker coordinates now (a gauge, and the leak detector's snapshot). */
  public int groupCount() {
    int count = 0;
    for (OffsetsPartition partition : partitions.values()) {
      count += partition.groups.size();
    }
    return count;
  }

  /** The groups this broker coordinates; COORDINATOR_LOAD_IN_PROGRESS while any is loading. */
  public Map.Entry<Errors, List<Listed>> listGroups() {
    final List<Listed> listed = new ArrayList<>();
    Errors error = Errors.NONE;
    for (OffsetsPartition partition : partitions.values()) {
      if (!partition.loaded()) {
        error = Errors.COORDINATOR_LOAD_IN_PROGRESS;
        continue;
      }
      for (ClassicGroup g : partition.groups.values()) {
        final GroupState state = g.state();
        if (state != GroupState.DEAD) {
          listed.add(new Listed(g.groupId(), g.protocolType(), state));
        }
      }
    }
    return Map.entry(error, listed);
  }

  /** A group as DescribeGroups reports it; state DEAD and no metadata for an unknown group. */
  public record Described(Errors error, GroupState state, GroupMetadata metadata) {}

  public Described describe(String groupId) {
    final Routed routed = route(groupId);
    if (routed.error() != Errors.NONE) {
      return new Described(routed.error(), GroupState.DEAD, null);
    }
    final ClassicGroup group = routed.partition().groups.get(groupId);
    if (group == null) {
      return new Described(Errors.NONE, GroupState.DEAD, null);
    }
    synchronized (group) {
      return new Described(Errors.NONE, group.state(), group.metadata());
    }
  }

  /** Deletes an Empty group and its offsets (tombstones for each, then the group's). */
  public CompletableFuture<Errors> deleteGroup(String groupId) {
    final Routed routed = route(groupId);
    if (routed.error() != Errors.NONE) {
      return CompletableFuture.completedFuture(routed.error());
    }
    final ClassicGroup group = routed.partition().groups.get(groupId);
    if (group == null || group.state() == GroupState.DEAD) {
      return CompletableFuture.completedFuture(Errors.GROUP_ID_NOT_FOUND);
    }
    if (group.state() != GroupState.EMPTY) {
      return CompletableFuture.completedFuture(Errors.NON_EMPTY_GROUP);
    }
    final long now = now();
    final List<SimpleRecord> tombstones = new ArrayList<>();
    cache
        .offsets(groupId)
        .keySet()
        .forEach(tp -> tombstones.add(CoordinatorRecords.offset(now, groupId, tp, null)));
    tombstones.add(CoordinatorRecords.group(now, groupId, null));
    return log.write(routed.partition(), tombstones)
        .thenApply(
            error -> {
              if (error == Errors.NONE) {
                group.markDead(Errors.COORDINATOR_NOT_AVAILABLE);
                routed.partition().groups.remove(groupId, group);
                cache.removeGroup(groupId);
              }
              return error;
            });
  }

  /**
   * Deletes some offsets of a group: refused per partition (GROUP_SUBSCRIBED_TO_TOPIC) for topics a
   * live consumer group subscribes to.
   */
  public CompletableFuture<Map.Entry<Errors, Map<TopicPartition, Errors>>> deleteOffsets(
      String groupId, Collection<TopicPartition> requested) {
    final Routed routed = route(groupId);
    final ClassicGroup group =
        routed.error() == Errors.NONE ? routed.partition().groups.get(groupId) : null;
    final Errors error =
        routed.error() != Errors.NONE
            ? routed.error()
            : group == null || group.state() == GroupState.DEAD
                ? Errors.GROUP_ID_NOT_FOUND
                : Errors.NONE;
    if (error != Errors.NONE) {
      return CompletableFuture.completedFuture(Map.entry(error, Map.of()));
    }
    final java.util.Set<String> subscribed = SubscribedTopics.of(group);
    final Map<TopicPartition, Errors> result = new HashMap<>();
    final List<SimpleRecord> tombstones = new ArrayList<>();
    final List<TopicPartition> deleted = new ArrayList<>();
    final long now = now();
    for (TopicPartition tp : requested) {
      if (subscribed.contains(tp.topic())) {
        result.put(tp, Errors.GROUP_SUBSCRIBED_TO_TOPIC);
      } else {
        tombstones.add(CoordinatorRecords.offset(now, groupId, tp, null));
        deleted.add(tp);
      }
    }
    if (tombstones.isEmpty()) {
      return CompletableFuture.completedFuture(Map.entry(Errors.NONE, result));
    }
    return log.write(routed.partition(), tombstones)
        .thenApply(
            e -> {
              for (TopicPartition tp : deleted) {
                result.put(tp, e);
                if (e == Errors.NONE) {
                  cache.remove(groupId, tp);
                }
              }
              return Map.entry(Errors.NONE, result);
            });
  }

  // ---- timers, leadership, loading -----------------------------------------------------------

  private void tick() {
    try {
      final long now = now();
      lastTick.set(now);
      metadata.image().topic(OFFSETS_TOPIC).ifPresent(partitions::poll);
      for (OffsetsPartition partition : partitions.values()) {
        if (partition.loaded()) {
          partition.groups.values().forEach(g -> g.tick(now));
        }
      }
      if (now - lastExpiryCheck >= EXPIRY_CHECK_MS) {
        lastExpiryCheck = now;
        OffsetExpiry.run(this, partitions.values(), now);
      }
    } catch (RuntimeException e) {
      LOG.error("Group coordinator timer failed; retrying on the next tick", e);
    }
  }

  /** Appends records to an offsets partition with acks=all; completes with the Kafka error. */
  CompletableFuture<Errors> write(OffsetsPartition partition, List<SimpleRecord> records) {
    return log.write(partition, records);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    partitions.close();
  }
}
