package io.skiff.broker.api;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersRequestData.TopicPartitions;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.ElectLeadersResponseData.PartitionResult;
import org.apache.kafka.common.message.ElectLeadersResponseData.ReplicaElectionResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.ratis.protocol.RaftPeer;

/**
 * ElectLeaders, PREFERRED: for each partition whose leader is not its first (preferred) replica,
 * the partition's Raft group hands leadership to that replica ({@link
 * io.skiff.raft.membership.PartitionMembership#electPreferred}). Transfers block on Raft round
 * trips, so they run on the given executor, never on the request thread. Per partition: NONE once
 * the preferred replica leads, ELECTION_NOT_NEEDED if it already did,
 * PREFERRED_LEADER_NOT_AVAILABLE if it is unregistered, decommissioned, unreachable or the transfer
 * failed, UNKNOWN_TOPIC_OR_PARTITION. With no partitions named, every partition is considered and,
 * as in Kafka, only those that needed an election are listed.
 *
 * <p>UNCLEAN elections are refused with INVALID_REQUEST (per partition with a message; at the top
 * level when no partitions are named): Raft elects only a replica holding every committed record,
 * and does so by itself once a majority of replicas is up, so there is no unclean election to ask
 * for. Stateless; thread-safe.
 */
public final class ElectLeadersHandler implements ApiHandler {
  private static final long MAX_TRANSFER_MS = 8_000;
  private static final String UNCLEAN_REFUSED =
      "unclean leader election is not supported: Raft elects only a replica that holds every"
          + " committed record, and does so by itself once a majority of the replicas is up";

  private final ClusterView cluster;
  private final Executor executor;

  /**
   * @param executor runs the leader transfers (each blocks for up to 8 s)
   */
  public ElectLeadersHandler(ClusterView cluster, Executor executor) {
    this.cluster = cluster;
    this.executor = executor;
  }

  /**
   * How long to wait: the request's timeout bounds the whole request, counted from its arrival
   * (queued transfers included); one transfer waits at most 8 s for the new leader.
   */
  private record Deadline(long requestMs, Duration transfer) {
    static Deadline of(int timeoutMs) {
      final long requestMs = Math.max(timeoutMs, 1000);
      return new Deadline(requestMs, Duration.ofMillis(Math.min(requestMs, MAX_TRANSFER_MS)));
    }
  }

  /** One partition's outcome, kept with its topic until the response is assembled. */
  private record Outcome(String topic, PartitionResult result) {}

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final ElectLeadersRequestData request = (ElectLeadersRequestData) message;
    final byte type =
        context.version() >= 1 ? request.electionType() : ElectionType.PREFERRED.value;
    final boolean all = request.topicPartitions() == null;
    if (type != ElectionType.PREFERRED.value && all) {
      return CompletableFuture.completedFuture(
          new ElectLeadersResponseData().setErrorCode(Errors.INVALID_REQUEST.code()));
    }
    final Deadline deadline = Deadline.of(request.timeoutMs());
    final List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
    for (Map.Entry<String, List<Integer>> t : targets(request).entrySet()) {
      for (int partition : t.getValue()) {
        final CompletableFuture<PartitionResult> result =
            type == ElectionType.PREFERRED.value
                ? elect(t.getKey(), partition, deadline)
                : CompletableFuture.completedFuture(
                    result(partition, Errors.INVALID_REQUEST, refusal(type)));
        outcomes.add(result.thenApply(r -> new Outcome(t.getKey(), r)));
      }
    }
    return CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
        .thenApply(v -> response(outcomes, all));
  }

  private static String refusal(byte type) {
    return type == ElectionType.UNCLEAN.value
        ? UNCLEAN_REFUSED
        : "unknown election type " + type + "; Skiff runs PREFERRED (0) elections";
  }

  /** The partitions named in the request, or every partition when it names none. */
  private Map<String, List<Integer>> targets(ElectLeadersRequestData request) {
    final Map<String, List<Integer>> targets = new LinkedHashMap<>();
    if (request.topicPartitions() == null) {
      for (TopicInfo topic : cluster.image().topics().values()) {
        final List<Integer> partitions = new ArrayList<>();
        for (int p = 0; p < topic.partitionCount(); p++) {
          partitions.add(p);
        }
        targets.put(topic.name(), partitions);
      }
      return targets;
    }
    for (TopicPartitions t : request.topicPartitions()) {
      targets.computeIfAbsent(t.topic(), k -> new ArrayList<>()).addAll(t.partitions());
    }
    return targets;
  }

  private CompletableFuture<PartitionResult> elect(
      String topicName, int partition, Deadline deadline) {
    final Optional<TopicInfo> topic = cluster.topic(topicName);
    if (topic.isEmpty() || partition < 0 || partition >= topic.get().partitionCount()) {
      return CompletableFuture.completedFuture(
          result(
              partition,
              Errors.UNKNOWN_TOPIC_OR_PARTITION,
              "topic '" + topicName + "' has no partition " + partition));
    }
    final List<RaftPeer> peers = new ArrayList<>();
    for (int nodeId : topic.get().replicasOf(partition)) {
      final Optional<BrokerInfo> broker = cluster.broker(nodeId);
      if (broker.isEmpty() || (peers.isEmpty() && !broker.get().active())) {
        return CompletableFuture.completedFuture(
            result(
                partition,
                Errors.PREFERRED_LEADER_NOT_AVAILABLE,
                "replica broker " + nodeId + " is not registered or decommissioned"));
      }
      peers.add(RaftNode.peer(nodeId, broker.get().raftAddress()));
    }
    final PartitionId id = topic.get().partition(partition);
    final String preferred = "broker " + topic.get().replicasOf(partition).get(0);
    return CompletableFuture.supplyAsync(() -> transfer(id, peers, deadline.transfer()), executor)
        .orTimeout(deadline.requestMs(), TimeUnit.MILLISECONDS)
        .handle(
            (moved, error) -> {
              if (error == null) {
                return moved
                    ? result(partition, Errors.NONE, null)
                    : result(partition, Errors.ELECTION_NOT_NEEDED, preferred + " already leads");
              }
              final Throwable cause = KafkaErrors.unwrap(error);
              if (cause instanceof TimeoutException) {
                return result(partition, Errors.REQUEST_TIMED_OUT, "leader transfer timed out");
              }
              final Throwable reason =
                  cause instanceof UncheckedIOException && cause.getCause() != null
                      ? cause.getCause()
                      : cause;
              return result(
                  partition,
                  Errors.PREFERRED_LEADER_NOT_AVAILABLE,
                  preferred + " cannot take leadership: " + reason.getMessage());
            });
  }

  private boolean transfer(PartitionId id, List<RaftPeer> peers, Duration timeout) {
    try {
      return cluster.membership().electPreferred(id, peers, timeout);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ElectLeadersResponseData response(
      List<CompletableFuture<Outcome>> outcomes, boolean onlyElected) {
    final Map<String, ReplicaElectionResult> byTopic = new LinkedHashMap<>();
    for (CompletableFuture<Outcome> f : outcomes) {
      final Outcome o = f.join();
      if (onlyElected && o.result().errorCode() == Errors.ELECTION_NOT_NEEDED.code()) {
        continue;
      }
      byTopic
          .computeIfAbsent(o.topic(), t -> new ReplicaElectionResult().setTopic(t))
          .partitionResult()
          .add(o.result());
    }
    return new ElectLeadersResponseData()
        .setReplicaElectionResults(new ArrayList<>(byTopic.values()));
  }

  private static PartitionResult result(int partition, Errors error, String message) {
    return new PartitionResult()
        .setPartitionId(partition)
        .setErrorCode(error.code())
        .setErrorMessage(message);
  }
}
