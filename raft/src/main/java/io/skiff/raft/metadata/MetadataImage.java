package io.skiff.raft.metadata;

import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable view of the cluster metadata at one point of the metadata log. Readers keep a
 * reference as long as they like; every change publishes a new image.
 *
 * @param appliedIndex the metadata log index this image reflects
 * @param brokers registered brokers by node id
 * @param topics topics by name
 * @param clusterConfigs cluster-wide configuration overrides
 * @param nextProducerId the next producer id to hand out
 */
public record MetadataImage(
    long appliedIndex,
    SortedMap<Integer, BrokerInfo> brokers,
    SortedMap<String, TopicInfo> topics,
    Map<String, String> clusterConfigs,
    long nextProducerId) {

  public MetadataImage {
    brokers = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(brokers));
    topics = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(topics));
    clusterConfigs = Map.copyOf(clusterConfigs);
  }

  public static MetadataImage empty() {
    return new MetadataImage(-1, new TreeMap<>(), new TreeMap<>(), Map.of(), 0);
  }

  public Optional<TopicInfo> topic(String name) {
    return Optional.ofNullable(topics.get(name));
  }

  public Optional<BrokerInfo> broker(int nodeId) {
    return Optional.ofNullable(brokers.get(nodeId));
  }
}
