package io.skiff.broker.api;

import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData.ListPartitionReassignmentsTopics;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingPartitionReassignment;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingTopicReassignment;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ListPartitionReassignments: the reassignments under way in the local metadata image, for the
 * named partitions or (with null topics) all of them. As in Kafka, replicas are the target then the
 * removing replicas, and partitions or topics with nothing under way are left out. Stateless;
 * thread-safe.
 */
public final class ListPartitionReassignmentsHandler implements ApiHandler {
  private final ClusterView cluster;

  public ListPartitionReassignmentsHandler(ClusterView cluster) {
    this.cluster = cluster;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final ListPartitionReassignmentsRequestData request =
        (ListPartitionReassignmentsRequestData) message;
    final ListPartitionReassignmentsResponseData response =
        new ListPartitionReassignmentsResponseData().setErrorCode(Errors.NONE.code());
    if (request.topics() == null) {
      for (TopicInfo topic : cluster.image().topics().values()) {
        add(response, topic, new ArrayList<>(topic.reassignments().keySet()));
      }
    } else {
      for (ListPartitionReassignmentsTopics t : request.topics()) {
        final Optional<TopicInfo> topic = cluster.topic(t.name());
        topic.ifPresent(info -> add(response, info, t.partitionIndexes()));
      }
    }
    return CompletableFuture.completedFuture(response);
  }

  private static void add(
      ListPartitionReassignmentsResponseData response, TopicInfo topic, List<Integer> partitions) {
    final List<OngoingPartitionReassignment> ongoing = new ArrayList<>();
    for (int p : partitions) {
      if (topic.reassignmentOf(p).isPresent()) {
        ongoing.add(
            new OngoingPartitionReassignment()
                .setPartitionIndex(p)
                .setReplicas(new ArrayList<>(topic.allReplicasOf(p)))
                .setAddingReplicas(new ArrayList<>(topic.addingOf(p)))
                .setRemovingReplicas(new ArrayList<>(topic.removingOf(p))));
      }
    }
    if (!ongoing.isEmpty()) {
      response
          .topics()
          .add(new OngoingTopicReassignment().setName(topic.name()).setPartitions(ongoing));
    }
  }
}
