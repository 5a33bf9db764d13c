package io.skiff.broker.api;

import io.skiff.broker.net.SliceRecords;
import io.skiff.log.FetchSlice;
import io.skiff.raft.membership.PartitionMembership.LeaderEpoch;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.HighWatermarkListener;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * Fetch, served by partition leaders from the page cache: each partition's records are a {@link
 * SliceRecords} that the network layer sends with sendfile. Reads stop at the high watermark, at
 * {@code partition_max_bytes} per partition and {@code max_bytes} per response (the first batch is
 * always returned whole, so a large batch cannot stall a consumer).
 *
 * <p>Long poll: with fewer than {@code min_bytes} available, the fetch waits up to {@code
 * max_wait_ms}, woken by the partitions' high-watermark listeners as soon as data is committed.
 * Fetch sessions are not kept: every response says session 0, so clients send full fetches.
 */
public final class FetchHandler implements ApiHandler {
  private final ClusterView cluster;
  private final ScheduledExecutorService scheduler;
  private final Executor executor;

  public FetchHandler(ClusterView cluster, ScheduledExecutorService scheduler, Executor executor) {
    this.cluster = cluster;
    this.scheduler = scheduler;
    this.executor = executor;
  }

  /** One partition of a fetch: where to read, and the response entry to fill. */
  private record Target(
      ReplicatedPartition replica, long fetchOffset, int partitionMaxBytes, PartitionData answer) {}

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final FetchRequestData request = (FetchRequestData) message;
    final FetchResponseData response =
        new FetchResponseData().setErrorCode(Errors.NONE.code()).setSessionId(0);
    final List<Target> targets = new ArrayList<>();
    final Set<Integer> redirects = new HashSet<>();
    boolean anyError = false;
    for (FetchRequestData.FetchTopic fetchTopic : request.topics()) {
      final Optional<TopicInfo> topic = cluster.topic(fetchTopic.topic(), fetchTopic.topicId());
      final FetchableTopicResponse topicResponse = new FetchableTopicResponse();
      if (context.version() >= 13) {
        topicResponse.setTopicId(fetchTopic.topicId());
      } else {
        topicResponse.setTopic(fetchTopic.topic());
      }
      response.responses().add(topicResponse);
      for (FetchRequestData.FetchPartition p : fetchTopic.partitions()) {
        final PartitionData answer =
            new PartitionData()
                .setPartitionIndex(p.partition())
                .setHighWatermark(-1)
                .setLastStableOffset(-1)
                .setRecords(MemoryRecords.EMPTY);
        topicResponse.partitions().add(answer);
        final Errors error = locate(context, topic, p).error();
        if (error != Errors.NONE) {
          answer.setErrorCode(error.code());
          anyError = true;
          if (error == Errors.NOT_LEADER_OR_FOLLOWER && context.version() >= 12) {
            nameCurrentLeader(answer, topic.get(), p.partition(), redirects);
          }
          continue;
        }
        targets.add(
            new Target(
                cluster.local(topic.get(), p.partition()).orElseThrow(),
                p.fetchOffset(),
                p.partitionMaxBytes(),
                answer));
      }
    }
    if (context.version() >= 16) {
      for (int leader : redirects) {
        cluster.broker(leader).ifPresent(b -> response.nodeEndpoints().add(endpoint(b)));
      }
    }
    final DelayedFetch fetch = new DelayedFetch(request, response, targets, context.version() >= 5);
    final int available = fetch.read();
    if (anyError
        || available >= request.minBytes()
        || request.maxWaitMs() <= 0
        || targets.isEmpty()) {
      return CompletableFuture.completedFuture(response);
    }
    return fetch.await(request.maxWaitMs());
  }

  /**
   * KIP-951: the leader a NOT_LEADER_OR_FOLLOWER answer names, only when another broker is known to
   * lead. With no leader yet, or while this replica leads but is not ready, the tagged field stays
   * out and the client refreshes its metadata (a named leader -1 is one librdkafka cannot use).
   */
  private void nameCurrentLeader(
      PartitionData answer, TopicInfo topic, int partition, Set<Integer> redirects) {
    final LeaderEpoch leader = cluster.leader(topic, partition);
    if (leader.nodeId() < 0 || leader.nodeId() == cluster.selfId()) {
      return;
    }
    answer.currentLeader().setLeaderId(leader.nodeId()).setLeaderEpoch((int) leader.epoch());
    redirects.add(leader.nodeId());
  }

  private static FetchResponseData.NodeEndpoint endpoint(BrokerInfo b) {
    return new FetchResponseData.NodeEndpoint()
        .setNodeId(b.nodeId())
        .setHost(b.host())
        .setPort(b.kafkaPort())
        .setRack(b.rack().isEmpty() ? null : b.rack());
  }

  /** Whether this broker leads the partition and is ready to serve it, as an error code. */
  private record Location(Errors error) {}

  private Location locate(
      RequestContext context, Optional<TopicInfo> topic, FetchRequestData.FetchPartition fetched) {
    final int partition = fetched.partition();
    if (topic.isEmpty()) {
      return new Location(
          context.version() >= 13 ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION);
    }
    if (partition < 0 || partition >= topic.get().partitionCount()) {
      return new Location(Errors.UNKNOWN_TOPIC_OR_PARTITION);
    }
    final Optional<ReplicatedPartition> replica = cluster.local(topic.get(), partition);
    if (replica.isEmpty()) {
      return new Location(Errors.NOT_LEADER_OR_FOLLOWER);
    }
    final Errors epoch =
        KafkaErrors.leaderEpochCheck(fetched.currentLeaderEpoch(), replica.get().leaderEpoch());
    if (epoch != Errors.NONE) {
      return new Location(epoch);
    }
    if (!replica.get().leadershipConfirmed()) {
      // A leader that is not ready has not yet committed an entry of its term: its high watermark
      // may still be behind what the previous leader acknowledged. One not confirmed since its
      // network healed may have been replaced, and its log may end before the new leader's.
      return new Location(Errors.NOT_LEADER_OR_FOLLOWER);
    }
    return new Location(Errors.NONE);
  }

  /**
   * A fetch that may wait: reads again whenever a partition's high watermark moves, completes once
   * {@code min_bytes} are available or {@code max_wait_ms} passed. All reads of one fetch are
   * serialised on this object.
   */
  private final class DelayedFetch implements HighWatermarkListener {
    private final FetchRequestData request;
    private final FetchResponseData response;
    private final List<Target> targets;
    private final CompletableFuture<ApiMessage> done = new CompletableFuture<>();
    private final boolean withLogStart;
    private ScheduledFuture<?> timeout;

    DelayedFetch(
        FetchRequestData request,
        FetchResponseData response,
        List<Target> targets,
        boolean withLogStart) {
      this.request = request;
      this.response = response;
      this.targets = targets;
      this.withLogStart = withLogStart;
    }

    CompletableFuture<ApiMessage> await(int maxWaitMs) {
      for (Target t : targets) {
        t.replica().addListener(this);
      }
      timeout =
          scheduler.schedule(
              () -> executor.execute(this::expire), maxWaitMs, TimeUnit.MILLISECONDS);
      executor.execute(this::retry); // data may have arrived before the listeners were added
      return done;
    }

    @Override
    public void onHighWatermark(PartitionId partition, long highWatermark) {
      if (!done.isDone()) {
        executor.execute(this::retry);
      }
    }

    private synchronized void retry() {
      if (!done.isDone() && read() >= request.minBytes()) {
        finish();
      }
    }

    private synchronized void expire() {
      if (!done.isDone()) {
        read();
        finish();
      }
    }

    private void finish() {
      for (Target t : targets) {
        t.replica().removeListener(this);
      }
      if (timeout != null) {
        timeout.cancel(false);
      }
      done.complete(response);
    }

    /** Reads every partition again, filling the answers; returns the bytes found. */
    synchronized int read() {
      int total = 0;
      for (Target t : targets) {
        final PartitionData answer = t.answer();
        final ReplicatedPartition replica = t.replica();
        final long hw = replica.highWatermark();
        answer
            .setHighWatermark(hw)
            .setLastStableOffset(hw)
            .setErrorCode(Errors.NONE.code())
            .setRecords(MemoryRecords.EMPTY);
        if (withLogStart) {
          answer.setLogStartOffset(replica.logStartOffset());
        }
        final int room = request.maxBytes() - total;
        if (room <= 0 && total > 0) {
          continue;
        }
        final int limit = Math.max(1, Math.min(t.partitionMaxBytes(), Math.max(room, 1)));
        try {
          final FetchSlice slice = replica.read(t.fetchOffset(), limit);
          if (!slice.isEmpty()) {
            answer.setRecords(new SliceRecords(slice));
            total += slice.length();
          }
        } catch (io.skiff.log.OffsetOutOfRangeException e) {
          answer.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code());
        } catch (IOException | RuntimeException e) {
          answer.setErrorCode(KafkaErrors.of(e).code());
        }
      }
      return total;
    }
  }
}
