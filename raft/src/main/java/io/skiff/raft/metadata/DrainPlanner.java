package io.skiff.raft.metadata;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Chooses where the replicas of a draining broker go: each is replaced, in place in the replica
 * list, by a broker that accepts replicas and does not hold the partition yet — preferring a rack
 * the partition's other replicas do not use (when {@code broker.rack} is set), then the broker
 * holding the fewest replicas (counting reassignment targets), then the lowest id.
 *
 * <p>Stateless and thread-safe: a pure function of one {@link MetadataImage}.
 */
public final class DrainPlanner {
  private DrainPlanner() {}

  /**
   * The reassignment target that moves the draining brokers' replicas of a partition away, or empty
   * when none of its replicas drains or no broker can take one.
   */
  public static Optional<List<Integer>> target(MetadataImage image, List<Integer> replicas) {
    final Map<Integer, Integer> load = replicaCounts(image);
    final List<Integer> target = new ArrayList<>(replicas);
    boolean moved = false;
    for (int i = 0; i < target.size(); i++) {
      final BrokerInfo current = image.brokers().get(target.get(i));
      if (current == null || current.state() != BrokerState.DRAINING) {
        continue;
      }
      final Optional<Integer> replacement = pick(image, target, i, load);
      if (replacement.isEmpty()) {
        return Optional.empty();
      }
      load.merge(replacement.get(), 1, Integer::sum);
      target.set(i, replacement.get());
      moved = true;
    }
    return moved ? Optional.of(target) : Optional.empty();
  }

  private static Optional<Integer> pick(
      MetadataImage image, List<Integer> target, int slot, Map<Integer, Integer> load) {
    final Set<String> usedRacks = new HashSet<>();
    for (int i = 0; i < target.size(); i++) {
      final BrokerInfo b = image.brokers().get(target.get(i));
      if (i != slot && b != null && !b.rack().isEmpty()) {
        usedRacks.add(b.rack());
      }
    }
    return image.brokers().values().stream()
        .filter(b -> b.state().acceptsReplicas() && !target.contains(b.nodeId()))
        .min(
            Comparator.comparing(
                    (BrokerInfo b) -> !b.rack().isEmpty() && usedRacks.contains(b.rack()))
                .thenComparing(b -> load.getOrDefault(b.nodeId(), 0))
                .thenComparing(BrokerInfo::nodeId))
        .map(BrokerInfo::nodeId);
  }

  private static Map<Integer, Integer> replicaCounts(MetadataImage image) {
    final Map<Integer, Integer> load = new HashMap<>();
    for (TopicInfo topic : image.topics().values()) {
      for (int p = 0; p < topic.partitionCount(); p++) {
        for (int node : topic.allReplicasOf(p)) {
          load.merge(node, 1, Integer::sum);
        }
      }
    }
    return load;
  }

  /** Partitions (topic, replica list) that still name {@code nodeId}, for progress reports. */
  public static int partitionsOn(MetadataImage image, int nodeId) {
    int count = 0;
    for (TopicInfo topic : image.topics().values()) {
      for (int p = 0; p < topic.partitionCount(); p++) {
        if (topic.allReplicasOf(p).contains(nodeId)) {
          count++;
        }
      }
    }
    return count;
  }
}
