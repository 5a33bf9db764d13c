package io.skiff.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The cluster as the Kafka Admin API shows it at one moment: brokers, every topic's partitions with
 * leader, replicas and in-sync replicas, each topic's {@code min.insync.replicas}, and the
 * reassignments under way. The source of {@code cluster status|health}, {@code broker list} and the
 * balancing commands. Immutable once read.
 */
record ClusterSnapshot(
    String clusterId,
    List<Node> brokers,
    Map<String, TopicDescription> topics,
    Map<String, Integer> minInsync,
    Map<TopicPartition, PartitionReassignment> reassignments) {

  /** A partition and what the snapshot knows of it. */
  record Partition(TopicPartition id, int leader, List<Integer> replicas, List<Integer> isr) {
    String name() {
      return id.topic() + "/" + id.partition();
    }
  }

  static ClusterSnapshot read(Admin admin, Invocation run) throws Exception {
    final DescribeClusterResult cluster = admin.describeCluster();
    final Set<String> names =
        run.await(admin.listTopics(new ListTopicsOptions().listInternal(true)).names());
    final Map<String, TopicDescription> topics =
        names.isEmpty() ? Map.of() : run.await(admin.describeTopics(names).allTopicNames());
    final Map<String, Integer> minInsync = new TreeMap<>();
    if (!names.isEmpty()) {
      final List<ConfigResource> resources =
          names.stream().map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
      final Map<ConfigResource, Config> configs = run.await(admin.describeConfigs(resources).all());
      configs.forEach(
          (resource, config) -> {
            final var entry = config.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
            minInsync.put(
                resource.name(), entry == null ? 1 : Integer.parseInt(entry.value().strip()));
          });
    }
    final List<Node> brokers = new ArrayList<>(run.await(cluster.nodes()));
    brokers.sort((a, b) -> Integer.compare(a.id(), b.id()));
    return new ClusterSnapshot(
        run.await(cluster.clusterId()),
        List.copyOf(brokers),
        new TreeMap<>(topics),
        minInsync,
        run.await(admin.listPartitionReassignments().reassignments()));
  }

  /** Every partition of every topic, in topic then partition order. */
  List<Partition> partitions() {
    final List<Partition> all = new ArrayList<>();
    for (TopicDescription topic : topics.values()) {
      for (TopicPartitionInfo p : topic.partitions()) {
        all.add(
            new Partition(
                new TopicPartition(topic.name(), p.partition()),
                p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id(),
                ids(p.replicas()),
                ids(p.isr())));
      }
    }
    return all;
  }

  List<Partition> leaderless() {
    return partitions().stream().filter(p -> p.leader() < 0).toList();
  }

  List<Partition> underReplicated() {
    return partitions().stream().filter(p -> p.isr().size() < p.replicas().size()).toList();
  }

  List<Partition> underMinInsync() {
    return partitions().stream()
        .filter(p -> p.isr().size() < minInsync.getOrDefault(p.id().topic(), 1))
        .toList();
  }

  /** Replicas hosted per broker id (every broker listed, even with none). */
  Map<Integer, Integer> replicaCounts() {
    final Map<Integer, Integer> counts = zeroes();
    partitions().forEach(p -> p.replicas().forEach(r -> counts.merge(r, 1, Integer::sum)));
    return counts;
  }

  /** Partitions led per broker id (every broker listed, even with none). */
  Map<Integer, Integer> leaderCounts() {
    final Map<Integer, Integer> counts = zeroes();
    partitions().stream()
        .filter(p -> p.leader() >= 0)
        .forEach(p -> counts.merge(p.leader(), 1, Integer::sum));
    return counts;
  }

  Set<Integer> brokerIds() {
    return brokers.stream().map(Node::id).collect(Collectors.toCollection(java.util.TreeSet::new));
  }

  private Map<Integer, Integer> zeroes() {
    final Map<Integer, Integer> counts = new TreeMap<>();
    brokers.forEach(b -> counts.put(b.id(), 0));
    return counts;
  }

  static List<Integer> ids(Collection<Node> nodes) {
    return nodes.stream().map(Node::id).toList();
  }
}
