package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import io.skiff.log.BatchContentValidator;
import io.skiff.raft.membership.PartitionMembership.LeaderEpoch;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.ReplicatedPartition;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * Produce: each partition's batches go to its Raft group through this broker's replica, which must
 * lead. The response waits for every partition's {@code acks} (bounded by the request's timeout),
 * and carries per-partition errors: NOT_LEADER_OR_FOLLOWER (also from a leader not yet ready to
 * take writes) with the current leader and its endpoint when another broker is known to lead, so
 * clients re-route at once, and without them when none is, so clients refresh their metadata;
 * CORRUPT_MESSAGE / INVALID_RECORD / MESSAGE_TOO_LARGE / UNSUPPORTED_FOR_MESSAGE_FORMAT for bad
 * batches (records checked by {@link BatchContentValidator}; INVALID_RECORD for a record without a
 * key on a topic whose {@code cleanup.policy} holds {@code compact}), NOT_ENOUGH_REPLICAS when
 * {@code acks=all} and fewer replicas than {@code min.insync.replicas} are in sync,
 * REQUEST_TIMED_OUT. {@code acks=0} gets no response.
 */
public final class ProduceHandler implements ApiHandler {
  private static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";

  private final ClusterView cluster;
  private final int minInsyncReplicas;
  private final long replicaLagTimeMs;
  private final RequestDeadlines deadlines;

  /**
   * @param deadlines bounds each partition's wait by the request's timeout
   * @param minInsyncReplicas the broker's {@code min.insync.replicas}; a topic's own setting wins
   * @param replicaLagTimeMs {@code replica.lag.time.max.ms}: how long a voter that is behind may be
   *     silent and still count as in sync
   */
  public ProduceHandler(
      ClusterView cluster,
      RequestDeadlines deadlines,
      int minInsyncReplicas,
      long replicaLagTimeMs) {
    this.cluster = cluster;
    this.deadlines = deadlines;
    this.minInsyncReplicas = minInsyncReplicas;
    this.replicaLagTimeMs = replicaLagTimeMs;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final ProduceRequestData request = (ProduceRequestData) message;
    final Acks acks;
    try {
      acks = Acks.fromKafka(request.acks());
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(allFailed(request, Errors.INVALID_REQUIRED_ACKS));
    }
    final ProduceResponseData response = new ProduceResponseData();
    final Set<Integer> redirects = new HashSet<>();
    final List<CompletableFuture<?>> pending = new ArrayList<>();
    for (ProduceRequestData.TopicProduceData topicData : request.topicData()) {
      final Optional<TopicInfo> topic = cluster.topic(topicData.name(), topicData.topicId());
      final TopicProduceResponse topicResponse = new TopicProduceResponse();
      if (context.version() >= 13) {
        topicResponse.setTopicId(topicData.topicId());
      } else {
        topicResponse.setName(topicData.name());
      }
      response.responses().add(topicResponse);
      for (ProduceRequestData.PartitionProduceData data : topicData.partitionData()) {
        final PartitionProduceResponse answer =
            new PartitionProduceResponse()
                .setIndex(data.index())
                .setBaseOffset(-1)
                .setLogAppendTimeMs(-1);
        topicResponse.partitionResponses().add(answer);
        if (topic.isEmpty()) {
          answer.setErrorCode(
              context.version() >= 13
                  ? Errors.UNKNOWN_TOPIC_ID.code()
                  : Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
          continue;
        }
        if (topic.get().name().equals(GroupCoordinator.OFFSETS_TOPIC)) {
          answer
              .setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code())
              .setErrorMessage("Cannot append to internal topic " + topic.get().name());
          continue;
        }
        final Optional<ReplicatedPartition> replica = cluster.local(topic.get(), data.index());
        if (replica.isEmpty() || !replica.get().isLeaderReady()) {
          notLeader(answer, topic.get(), data.index(), context.version() >= 10 ? redirects : null);
          continue;
        }
        if (!(data.records() instanceof MemoryRecords records) || records.sizeInBytes() == 0) {
          answer.setErrorCode(Errors.CORRUPT_MESSAGE.code()).setErrorMessage("no record batches");
          continue;
        }
        if (acks == Acks.ALL && notEnoughInSync(replica.get(), topic.get(), data.index(), answer)) {
          continue;
        }
        pending.add(
            append(
                replica.get(),
                records.buffer(),
                replica.get().log().config().compact()
                    ? topic.get().name() + "-" + data.index()
                    : null,
                acks,
                request.timeoutMs(),
                answer,
                context.version()));
      }
    }
    for (int leader : redirects) {
      cluster.broker(leader).ifPresent(b -> response.nodeEndpoints().add(endpoint(b)));
    }
    final CompletableFuture<ApiMessage> done =
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    return acks == Acks.NONE ? done.thenApply(r -> null) : done;
  }

  private CompletableFuture<?> append(
      ReplicatedPartition replica,
      ByteBuffer batches,
      String compactedPartition,
      Acks acks,
      int timeoutMs,
      PartitionProduceResponse answer,
      short version) {
    CompletableFuture<io.skiff.raft.partition.AppendResult> appended;
    try {
      BatchContentValidator.validate(batches, compactedPartition);
      appended = replica.append(batches, acks);
    } catch (RuntimeException e) {
      appended = CompletableFuture.failedFuture(e);
    }
    return deadlines
        .bound(appended, timeoutMs)
        .handle(
            (result, error) -> {
              if (error != null) {
                answer
                    .setErrorCode(KafkaErrors.of(error).code())
                    .setErrorMessage(KafkaErrors.message(error));
              } else {
                answer
                    .setBaseOffset(result.baseOffset())
                    .setLogStartOffset(replica.logStartOffset());
              }
              return null;
            });
  }

  /**
   * Kafka's {@code min.insync.replicas} for {@code acks=all}: with fewer replicas in sync than that
   * (the leader included), the write is refused at once with the retriable NOT_ENOUGH_REPLICAS
   * instead of waiting for a commit that may not come. Raft's majority rule still decides the
   * commit; this adds Kafka's floor, which matters when the setting asks for more than a majority
   * or when the followers have been silent longer than the lag time. As in Kafka, the floor is
   * capped at the partition's replication factor: a topic of one replica on a cluster whose {@code
   * min.insync.replicas} is 2 takes {@code acks=all} writes rather than refusing them forever.
   */
  private boolean notEnoughInSync(
      ReplicatedPartition replica,
      TopicInfo topic,
      int partition,
      PartitionProduceResponse answer) {
    final int required = Math.min(minInsyncReplicas(topic), topic.replicasOf(partition).size());
    if (required <= 1) {
      return false; // the leader itself is always in sync
    }
    final int inSync = replica.inSyncReplicas(replicaLagTimeMs);
    if (inSync >= required) {
      return false;
    }
    answer
        .setErrorCode(Errors.NOT_ENOUGH_REPLICAS.code())
        .setErrorMessage(
            inSync
                + " replica(s) in sync, fewer than min.insync.replicas="
                + required
                + "; the write would not be durable enough");
    return true;
  }

  private int minInsyncReplicas(TopicInfo topic) {
    final String own = topic.configs().get(MIN_INSYNC_REPLICAS);
    if (own == null) {
      return minInsyncReplicas;
    }
    try {
      return Integer.parseInt(own.trim());
    } catch (NumberFormatException e) {
      return minInsyncReplicas; // validated when set; an unreadable value falls back
    }
  }

  private void notLeader(
      PartitionProduceResponse answer, TopicInfo topic, int partition, Set<Integer> redirects) {
    if (partition < 0 || partition >= topic.partitionCount()) {
      answer.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
      return;
    }
    answer.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
    if (redirects == null) {
      return; // before v10 the client learns the leader from a metadata refresh
    }
    final LeaderEpoch leader = cluster.leader(topic, partition);
    if (leader.nodeId() < 0 || leader.nodeId() == cluster.selfId()) {
      // No leader yet, or this replica leads but cannot take writes yet: the current-leader field
      // stays out (it is tagged), so the client refreshes its metadata and retries. Naming leader
      // -1 instead makes librdkafka drop the update ("new leader-1 not found in cache").
      return;
    }
    answer.setCurrentLeader(
        new ProduceResponseData.LeaderIdAndEpoch()
            .setLeaderId(leader.nodeId())
            .setLeaderEpoch((int) leader.epoch()));
    redirects.add(leader.nodeId());
  }

  private static ProduceResponseData.NodeEndpoint endpoint(BrokerInfo b) {
    return new ProduceResponseData.NodeEndpoint()
        .setNodeId(b.nodeId())
        .setHost(b.host())
        .setPort(b.kafkaPort())
        .setRack(b.rack().isEmpty() ? null : b.rack());
  }

  private static ProduceResponseData allFailed(ProduceRequestData request, Errors error) {
    final ProduceResponseData response = new ProduceResponseData();
    for (ProduceRequestData.TopicProduceData t : request.topicData()) {
      final TopicProduceResponse tr =
          new TopicProduceResponse().setName(t.name()).setTopicId(t.topicId());
      for (ProduceRequestData.PartitionProduceData p : t.partitionData()) {
        tr.partitionResponses()
            .add(new PartitionProduceResponse().setIndex(p.index()).setErrorCode(error.code()));
      }
      response.responses().add(tr);
    }
    return response;
  }
}
