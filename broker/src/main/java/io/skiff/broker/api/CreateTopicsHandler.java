package io.skiff.broker.api;

import io.skiff.broker.memory.PartitionLimit;
import io.skiff.raft.metadata.MetadataService;
import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * CreateTopics through the metadata group: default partitions and replication factor from the
 * broker config when the request says -1, explicit assignments honoured, {@code validate_only}
 * checks without creating. Errors per topic as Kafka's; a topic that would take the brokers over
 * the tier's partition limit is POLICY_VIOLATION.
 */
public final class CreateTopicsHandler implements ApiHandler {
  private final ClusterView cluster;
  private final int defaultPartitions;
  private final short defaultReplicationFactor;
  private final PartitionLimit partitionLimit;

  public CreateTopicsHandler(
      ClusterView cluster, int defaultPartitions, short defaultRf, PartitionLimit partitionLimit) {
    this.cluster = cluster;
    this.defaultPartitions = defaultPartitions;
    this.defaultReplicationFactor = defaultRf;
    this.partitionLimit = partitionLimit;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final CreateTopicsRequestData request = (CreateTopicsRequestData) message;
    final CreateTopicsResponseData response = new CreateTopicsResponseData();
    final short version = context.version();
    final List<CompletableFuture<?>> pending = new ArrayList<>();
    final MetadataService metadata = cluster.metadata();
    long addedReplicas = 0;
    for (CreateTopicsRequestData.CreatableTopic t : request.topics()) {
      final CreatableTopicResult result = new CreatableTopicResult().setName(t.name());
      response.topics().add(result);
      final Map<String, String> configs = new HashMap<>();
      t.configs().forEach(c -> configs.put(c.name(), c.value()));
      final int partitions =
          !t.assignments().isEmpty()
              ? t.assignments().size()
              : t.numPartitions() == -1 ? defaultPartitions : t.numPartitions();
      final short rf =
          !t.assignments().isEmpty()
              ? (short) t.assignments().iterator().next().brokerIds().size()
              : t.replicationFactor() == -1 ? defaultReplicationFactor : t.replicationFactor();
      if (cluster.topic(t.name()).isPresent()) {
        fail(
            result,
            Errors.TOPIC_ALREADY_EXISTS,
            "topic '" + t.name() + "' already exists",
            version);
        continue;
      }
      final var overLimit = partitionLimit.refusal(cluster.image(), partitions, rf, addedReplicas);
      if (overLimit.isPresent()) {
        fail(result, Errors.POLICY_VIOLATION, overLimit.get(), version);
        continue;
      }
      addedReplicas += (long) partitions * rf;
      if (request.validateOnly()) {
        if (version >= 5) {
          result.setNumPartitions(partitions).setReplicationFactor(rf);
        }
        continue;
      }
      final CompletableFuture<TopicInfo> created;
      if (!t.assignments().isEmpty()) {
        final List<List<Integer>> replicas = new ArrayList<>();
        t.assignments().stream()
            .sorted((a, b) -> Integer.compare(a.partitionIndex(), b.partitionIndex()))
            .forEach(a -> replicas.add(new ArrayList<>(a.brokerIds())));
        created = metadata.createTopic(t.name(), replicas, configs);
      } else {
        created = metadata.createTopic(t.name(), partitions, rf, configs);
      }
      pending.add(
          created
              .orTimeout(Math.max(request.timeoutMs(), 1000), TimeUnit.MILLISECONDS)
              .handle(
                  (topic, error) -> {
                    if (error != null) {
                      fail(result, KafkaErrors.of(error), KafkaErrors.message(error), version);
                    } else {
                      if (version >= 7) {
                        result.setTopicId(ClusterView.kafkaId(topic));
                      }
                      if (version >= 5) {
                        result
                            .setNumPartitions(topic.partitionCount())
                            .setReplicationFactor((short) topic.replicasOf(0).size());
                      }
                    }
                    return null;
                  }));
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .thenApply(v -> response);
  }

  private static void fail(
      CreatableTopicResult result, Errors error, String message, short version) {
    result.setErrorCode(
        error == Errors.INVALID_REQUEST ? Errors.INVALID_TOPIC_EXCEPTION.code() : error.code());
    if (version >= 1) {
      result.setErrorMessage(message);
    }
    if (version >= 5) {
      result.setNumPartitions(-1).setReplicationFactor((short) -1);
    }
  }
}
