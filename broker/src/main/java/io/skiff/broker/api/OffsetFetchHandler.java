package io.skiff.broker.api;

import io.skiff.broker.group.CommittedOffset;
import io.skiff.broker.group.GroupCoordinator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartition;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopic;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * OffsetFetch (v1-9, topics by name): one group (v1-7) or several (v8+); null topics means every
 * committed offset of the group. A partition without a committed offset answers offset -1. There
 * are no transactions, so {@code require_stable} changes nothing.
 */
public final class OffsetFetchHandler implements ApiHandler {
  private final GroupCoordinator coordinator;

  public OffsetFetchHandler(GroupCoordinator coordinator) {
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final OffsetFetchRequestData request = (OffsetFetchRequestData) message;
    final short version = context.version();
    final OffsetFetchResponseData response = new OffsetFetchResponseData();
    if (version >= 8) {
      for (OffsetFetchRequestData.OffsetFetchRequestGroup g : request.groups()) {
        response.groups().add(group(g));
      }
      return CompletableFuture.completedFuture(response);
    }
    final List<TopicPartition> wanted = wanted(request);
    final GroupCoordinator.Offsets found = coordinator.fetchOffsets(request.groupId(), wanted);
    if (found.error() != Errors.NONE && version >= 2) {
      return CompletableFuture.completedFuture(response.setErrorCode(found.error().code()));
    }
    for (Map.Entry<String, List<Integer>> t : byTopic(wanted, found).entrySet()) {
      final OffsetFetchResponseTopic topic = new OffsetFetchResponseTopic().setName(t.getKey());
      response.topics().add(topic);
      for (int p : t.getValue()) {
        final CommittedOffset offset = found.offsets().get(new TopicPartition(t.getKey(), p));
        final OffsetFetchResponsePartition answer =
            new OffsetFetchResponsePartition()
                .setPartitionIndex(p)
                .setCommittedOffset(offset == null ? -1 : offset.offset())
                .setMetadata(offset == null ? "" : offset.metadata())
                .setErrorCode(found.error().code());
        if (version >= 5) {
          answer.setCommittedLeaderEpoch(offset == null ? -1 : offset.leaderEpoch());
        }
        topic.partitions().add(answer);
      }
    }
    return CompletableFuture.completedFuture(response);
  }

  private static List<TopicPartition> wanted(OffsetFetchRequestData request) {
    if (request.topics() == null) {
      return null;
    }
    final List<TopicPartition> wanted = new ArrayList<>();
    request
        .topics()
        .forEach(
            t -> t.partitionIndexes().forEach(p -> wanted.add(new TopicPartition(t.name(), p))));
    return wanted;
  }

  /** The partitions to answer, by topic: those asked for, or every one with an offset. */
  private static Map<String, List<Integer>> byTopic(
      List<TopicPartition> wanted, GroupCoordinator.Offsets found) {
    final Map<String, List<Integer>> byTopic = new TreeMap<>();
    for (TopicPartition tp : wanted != null ? wanted : found.offsets().keySet()) {
      byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
    }
    return byTopic;
  }

  private OffsetFetchResponseGroup group(OffsetFetchRequestData.OffsetFetchRequestGroup g) {
    List<TopicPartition> wanted = null;
    if (g.topics() != null) {
      wanted = new ArrayList<>();
      for (OffsetFetchRequestData.OffsetFetchRequestTopics t : g.topics()) {
        for (int p : t.partitionIndexes()) {
          wanted.add(new TopicPartition(t.name(), p));
        }
      }
    }
    final GroupCoordinator.Offsets found = coordinator.fetchOffsets(g.groupId(), wanted);
    final OffsetFetchResponseGroup group =
        new OffsetFetchResponseGroup().setGroupId(g.groupId()).setErrorCode(found.error().code());
    if (found.error() != Errors.NONE) {
      return group;
    }
    for (Map.Entry<String, List<Integer>> t : byTopic(wanted, found).entrySet()) {
      final OffsetFetchResponseTopics topic = new OffsetFetchResponseTopics().setName(t.getKey());
      group.topics().add(topic);
      for (int p : t.getValue()) {
        final CommittedOffset offset = found.offsets().get(new TopicPartition(t.getKey(), p));
        topic
            .partitions()
            .add(
                new OffsetFetchResponsePartitions()
                    .setPartitionIndex(p)
                    .setCommittedOffset(offset == null ? -1 : offset.offset())
                    .setCommittedLeaderEpoch(offset == null ? -1 : offset.leaderEpoch())
                    .setMetadata(offset == null ? "" : offset.metadata()));
      }
    }
    return group;
  }
}
