package io.skiff.broker.api;

import io.skiff.raft.catchup.ReplicationThrottleApplier;
import io.skiff.raft.metadata.MetadataException;
import io.skiff.raft.metadata.MetadataException.Error;
import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * IncrementalAlterConfigs for TOPIC resources: SET and DELETE of the {@link TopicConfigSchema}'s
 * keys, written as topic overrides through the metadata group (a DELETE is a null value, which
 * removes the override). APPEND and SUBTRACT apply to list keys only ({@code cleanup.policy}).
 * Every change of a resource is checked before any is written, and all are written in one metadata
 * command, so a resource changes wholly or not at all; {@code validate_only} stops after the check.
 *
 * <p>Errors: an unknown key or a bad value is INVALID_CONFIG with a message saying what is
 * expected; APPEND/SUBTRACT on a non-list key, a key named twice and BROKER resources are
 * INVALID_REQUEST (broker configs are static: they come from the properties file), but for the
 * replication throttle ({@code follower.replication.throttled.rate}), which SET and DELETE change
 * cluster-wide on the default broker resource (empty name). Deleting Kafka's replication throttles
 * (what {@code kafka-reassign-partitions --verify} does when a move is done) succeeds and changes
 * nothing, on topics and brokers alike. Stateless; thread-safe.
 */
public final class IncrementalAlterConfigsHandler implements ApiHandler {
  private static final long TIMEOUT_MS = 30_000;

  /**
   * Kafka's replication throttles, which {@code kafka-reassign-partitions --verify} deletes from
   * every broker and topic of a finished move. Skiff keeps one throttle, cluster-wide (see {@link
   * #clusterThrottleChanges}), so there is never one of these to delete: such a DELETE succeeds and
   * changes nothing.
   */
  private static final Set<String> REPLICATION_THROTTLES =
      Set.of(
          "leader.replication.throttled.rate",
          "follower.replication.throttled.rate",
          "replica.alter.log.dirs.io.max.bytes.per.second",
          "leader.replication.throttled.replicas",
          "follower.replication.throttled.replicas");

  private final ClusterView cluster;
  private final TopicConfigSchema schema;

  public IncrementalAlterConfigsHandler(ClusterView cluster, TopicConfigSchema schema) {
    this.cluster = cluster;
    this.schema = schema;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final IncrementalAlterConfigsRequestData request = (IncrementalAlterConfigsRequestData) message;
    final IncrementalAlterConfigsResponseData response = new IncrementalAlterConfigsResponseData();
    final List<CompletableFuture<?>> pending = new ArrayList<>();
    for (AlterConfigsResource resource : request.resources()) {
      final AlterConfigsResourceResponse result =
          new AlterConfigsResourceResponse()
              .setResourceType(resource.resourceType())
              .setResourceName(resource.resourceName())
              .setErrorCode(Errors.NONE.code());
      response.responses().add(result);
      final Map<String, String> changes;
      try {
        changes = changesOf(resource);
      } catch (MetadataException e) {
        fail(result, e);
        continue;
      }
      if (!request.validateOnly() && !changes.isEmpty()) {
        pending.add(
            write(resource, changes)
                .orTimeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .handle(
                    (v, error) -> {
                      if (error != null) {
                        fail(result, error);
                      }
                      return null;
                    }));
      }
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .thenApply(v -> response);
  }

  /**
   * The overrides to write for one resource: key to new value, null to remove.
   *
   * @throws MetadataException (INVALID_CONFIG, INVALID_REQUEST, UNKNOWN_TOPIC) if any change is
   *     refused
   */
  private Map<String, String> changesOf(AlterConfigsResource resource) {
    final ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
    if (type == ConfigResource.Type.BROKER) {
      if (resource.resourceName().isEmpty()) {
        return clusterThrottleChanges(resource);
      }
      if (resource.configs().stream().allMatch(IncrementalAlterConfigsHandler::clearsThrottle)) {
        return Map.of();
      }
      throw new MetadataException(
          Error.INVALID_REQUEST,
          "broker configs are static in this version; edit the properties file and restart the"
              + " broker (the replication throttle "
              + ReplicationThrottleApplier.KEY
              + " is set cluster-wide, on the default broker resource)");
    }
    if (type != ConfigResource.Type.TOPIC) {
      throw new MetadataException(
          Error.INVALID_REQUEST,
          "resource type " + type + " cannot be altered; Skiff alters TOPIC configs");
    }
    final TopicInfo topic =
        cluster
            .topic(resource.resourceName())
            .orElseThrow(
                () ->
                    new MetadataException(
                        Error.UNKNOWN_TOPIC,
                        "topic '" + resource.resourceName() + "' does not exist"));
    final Map<String, String> changes = new HashMap<>();
    for (AlterableConfig config : resource.configs()) {
      if (clearsThrottle(config)) {
        continue;
      }
      if (changes.containsKey(config.name())) {
        throw new MetadataException(
            Error.INVALID_REQUEST, "config " + config.name() + " is named twice in one request");
      }
      changes.put(config.name(), newValue(topic, config));
    }
    return changes;
  }

  private CompletableFuture<Void> write(
      AlterConfigsResource resource, Map<String, String> changes) {
    return ConfigResource.Type.forId(resource.resourceType()) == ConfigResource.Type.BROKER
        ? cluster.metadata().setClusterConfigs(changes)
        : cluster.metadata().setTopicConfigs(resource.resourceName(), changes);
  }

  /**
   * The cluster default broker resource (empty name) takes SET and DELETE of the replication
   * throttle, which every broker applies to its new replicas' catch-up; Kafka's other throttle keys
   * may only be deleted (a no-op).
   */
  private static Map<String, String> clusterThrottleChanges(AlterConfigsResource resource) {
    final Map<String, String> changes = new HashMap<>();
    for (AlterableConfig config : resource.configs()) {
      if (!config.name().equals(ReplicationThrottleApplier.KEY)) {
        if (clearsThrottle(config)) {
          continue;
        }
        throw new MetadataException(
            Error.INVALID_REQUEST,
            "the cluster default broker resource takes "
                + ReplicationThrottleApplier.KEY
                + " only; other broker configs are static (the properties file)");
      }
      final OpType op = OpType.forId(config.configOperation());
      if (op == OpType.DELETE) {
        changes.put(config.name(), null);
      } else if (op == OpType.SET) {
        try {
          changes.put(
              config.name(),
              Long.toString(ReplicationThrottleApplier.parse(String.valueOf(config.value()))));
        } catch (IllegalArgumentException e) {
          throw new MetadataException(
              Error.INVALID_CONFIG, ReplicationThrottleApplier.KEY + ": " + e.getMessage());
        }
      } else {
        throw new MetadataException(
            Error.INVALID_REQUEST, op + " does not apply to " + config.name() + "; use SET");
      }
    }
    return changes;
  }

  private static boolean clearsThrottle(AlterableConfig config) {
    return config.configOperation() == OpType.DELETE.id()
        && REPLICATION_THROTTLES.contains(config.name());
  }

  /** The value one operation leaves: null for DELETE. */
  private String newValue(TopicInfo topic, AlterableConfig config) {
    final OpType op = OpType.forId(config.configOperation());
    final String current = topic.configs().get(config.name());
    if (op == OpType.DELETE && current != null) {
      return null; // removing an override is fine even for a key this version does not know
    }
    final Optional<TopicConfigSchema.Key> key = schema.key(config.name());
    if (key.isEmpty()) {
      throw new MetadataException(
          Error.INVALID_CONFIG,
          "unknown topic config '" + config.name() + "'; Skiff supports " + schema.names());
    }
    if (op == null) {
      throw new MetadataException(
          Error.INVALID_REQUEST, "unknown config operation " + config.configOperation());
    }
    final String value =
        switch (op) {
          case SET -> config.value();
          case DELETE -> null;
          case APPEND, SUBTRACT -> editList(key.get(), op, current, config.value());
        };
    final String problem = value == null ? null : key.get().check(value);
    if (problem != null) {
      throw new MetadataException(Error.INVALID_CONFIG, problem);
    }
    return value == null ? null : value.trim();
  }

  private static String editList(
      TopicConfigSchema.Key key, OpType op, String current, String items) {
    if (!key.isList()) {
      throw new MetadataException(
          Error.INVALID_REQUEST,
          op + " applies only to list configs, and " + key.name() + " is not one; use SET");
    }
    final ListValue base = ListValue.parse(current != null ? current : key.defaultValue());
    final ListValue edit = ListValue.parse(items);
    return (op == OpType.APPEND ? base.append(edit) : base.subtract(edit)).toString();
  }

  private static void fail(AlterConfigsResourceResponse result, Throwable error) {
    result.setErrorCode(KafkaErrors.of(error).code()).setErrorMessage(KafkaErrors.message(error));
  }
}
