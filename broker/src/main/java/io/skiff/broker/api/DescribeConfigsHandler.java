package io.skiff.broker.api;

import io.skiff.raft.catchup.ReplicationThrottleApplier;
import io.skiff.raft.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * DescribeConfigs for TOPIC and BROKER resources.
 *
 * <p>A topic shows every key of the {@link TopicConfigSchema}: its override from the metadata image
 * ({@code DYNAMIC_TOPIC_CONFIG}) or else the fallback ({@code STATIC_BROKER_CONFIG} when the
 * broker's properties set it, {@code DEFAULT_CONFIG} otherwise), plus any other override the topic
 * was created with. A broker (this one, by id or by the empty name) shows its effective settings
 * from its properties file, all read-only: they change only with a restart. Synonyms are listed
 * when asked for, the value in force first, as Kafka does; documentation is not provided.
 * Stateless; thread-safe.
 */
public final class DescribeConfigsHandler implements ApiHandler {
  private final ClusterView cluster;
  private final TopicConfigSchema schema;
  private final SortedMap<String, String> brokerSettings;
  private final Map<String, String> brokerDefaults;

  /**
   * @param brokerSettings this broker's effective settings by property key
   * @param brokerDefaults the built-in default of each key, to tell the configured ones apart
   */
  public DescribeConfigsHandler(
      ClusterView cluster,
      TopicConfigSchema schema,
      SortedMap<String, String> brokerSettings,
      Map<String, String> brokerDefaults) {
    this.cluster = cluster;
    this.schema = schema;
    this.brokerSettings = brokerSettings;
    this.brokerDefaults = brokerDefaults;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final DescribeConfigsRequestData request = (DescribeConfigsRequestData) message;
    final DescribeConfigsResponseData response = new DescribeConfigsResponseData();
    final Entries entries = new Entries(context.version(), request.includeSynonyms());
    for (DescribeConfigsResource resource : request.resources()) {
      final DescribeConfigsResult result =
          new DescribeConfigsResult()
              .setResourceType(resource.resourceType())
              .setResourceName(resource.resourceName())
              .setErrorCode(Errors.NONE.code());
      response.results().add(result);
      final List<String> wanted = resource.configurationKeys();
      switch (ConfigResource.Type.forId(resource.resourceType())) {
        case TOPIC -> describeTopic(result, wanted, entries);
        case BROKER -> describeBroker(result, wanted, entries);
        default ->
            fail(
                result,
                "resource type "
                    + ConfigResource.Type.forId(resource.resourceType())
                    + " has no configs here; Skiff describes TOPIC and BROKER resources");
      }
    }
    return CompletableFuture.completedFuture(response);
  }

  private void describeTopic(DescribeConfigsResult result, List<String> wanted, Entries entries) {
    final Optional<TopicInfo> topic = cluster.topic(result.resourceName());
    if (topic.isEmpty()) {
      result
          .setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
          .setErrorMessage("topic '" + result.resourceName() + "' does not exist");
      return;
    }
    final Map<String, String> overrides = topic.get().configs();
    for (TopicConfigSchema.Key key : schema.keys()) {
      if (isWanted(wanted, key.name())) {
        result.configs().add(entries.topicKey(key, overrides.get(key.name())));
      }
    }
    overrides.forEach(
        (name, value) -> {
          if (schema.key(name).isEmpty() && isWanted(wanted, name)) {
            result.configs().add(entries.unknownOverride(name, value));
          }
        });
  }

  private void describeBroker(DescribeConfigsResult result, List<String> wanted, Entries entries) {
    final String name = result.resourceName();
    if (!name.isEmpty() && !name.equals(Integer.toString(cluster.selfId()))) {
      fail(
          result,
          "this is broker "
              + cluster.selfId()
              + "; ask broker "
              + name
              + " itself for its configs, or use the empty name for this one's");
      return;
    }
    brokerSettings.forEach(
        (key, value) -> {
          if (isWanted(wanted, key)) {
            final ConfigSource source =
                value.equals(brokerDefaults.get(key))
                    ? ConfigSource.DEFAULT_CONFIG
                    : ConfigSource.STATIC_BROKER_CONFIG;
            result.configs().add(entries.brokerKey(key, value, source, brokerDefaults.get(key)));
          }
        });
    final String throttle = cluster.image().clusterConfigs().get(ReplicationThrottleApplier.KEY);
    if (throttle != null && isWanted(wanted, ReplicationThrottleApplier.KEY)) {
      result
          .configs()
          .add(
              entries.brokerKey(
                  ReplicationThrottleApplier.KEY,
                  throttle,
                  ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
                  null));
    }
  }

  private static boolean isWanted(List<String> wanted, String name) {
    return wanted == null || wanted.isEmpty() || wanted.contains(name);
  }

  private static void fail(DescribeConfigsResult result, String message) {
    result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(message);
  }

  /** Builds config entries for one request's version and synonym choice. */
  private record Entries(short version, boolean includeSynonyms) {
    DescribeConfigsResourceResult topicKey(TopicConfigSchema.Key key, String override) {
      final List<DescribeConfigsSynonym> synonyms = new ArrayList<>();
      if (override != null) {
        synonyms.add(synonym(key.name(), override, ConfigSource.TOPIC_CONFIG));
      }
      synonyms.add(synonym(key.brokerKey(), key.defaultValue(), key.defaultSource()));
      if (key.defaultSource() != ConfigSource.DEFAULT_CONFIG) {
        synonyms.add(synonym(key.brokerKey(), key.builtInValue(), ConfigSource.DEFAULT_CONFIG));
      }
      return override != null
          ? entry(key.name(), override, false, ConfigSource.TOPIC_CONFIG, key.type(), synonyms)
          : entry(key.name(), key.defaultValue(), false, key.defaultSource(), key.type(), synonyms);
    }

    DescribeConfigsResourceResult unknownOverride(String name, String value) {
      return entry(
          name,
          value,
          false,
          ConfigSource.TOPIC_CONFIG,
          ConfigType.STRING,
          List.of(synonym(name, value, ConfigSource.TOPIC_CONFIG)));
    }

    DescribeConfigsResourceResult brokerKey(
        String key, String value, ConfigSource source, String builtIn) {
      final List<DescribeConfigsSynonym> synonyms = new ArrayList<>();
      synonyms.add(synonym(key, value, source));
      if (source != ConfigSource.DEFAULT_CONFIG && builtIn != null) {
        synonyms.add(synonym(key, builtIn, ConfigSource.DEFAULT_CONFIG));
      }
      return entry(key, value, true, source, ConfigType.UNKNOWN, synonyms);
    }

    private DescribeConfigsResourceResult entry(
        String name,
        String value,
        boolean readOnly,
        ConfigSource source,
        ConfigType type,
        List<DescribeConfigsSynonym> synonyms) {
      final DescribeConfigsResourceResult entry =
          new DescribeConfigsResourceResult()
              .setName(name)
              .setValue(value)
              .setReadOnly(readOnly)
              .setIsSensitive(false)
              .setConfigSource(source.id());
      if (includeSynonyms) {
        entry.setSynonyms(synonyms);
      }
      if (version >= 3) {
        entry.setConfigType(type.id());
      }
      return entry;
    }

    private static DescribeConfigsSynonym synonym(String name, String value, ConfigSource source) {
      return new DescribeConfigsSynonym().setName(name).setValue(value).setSource(source.id());
    }
  }
}
