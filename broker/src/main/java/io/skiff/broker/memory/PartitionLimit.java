package io.skiff.broker.memory;

import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.TopicInfo;
import java.util.Optional;

/**
 * The tier's partition limit for CreateTopics and CreatePartitions: refuses a request that would
 * put more partition replicas on a broker than {@code skiff.max.partitions} allows (the tier's 100
 * / 2000 / 10000 / 30000), because each replica costs Raft threads, a direct write buffer and index
 * memory that the tier's heap and RAM were sized for.
 *
 * <p>Skiff places replicas evenly, so the check is on the average: the replicas that exist plus the
 * new ones, over the active brokers, rounded up. Example: 3 brokers of tier {@code dev} (100) with
 * 240 replicas can take 20 more partitions at RF 3 (300 / 3 = 100) but not 21.
 *
 * <p>Thread-safety: immutable; reads an immutable metadata image.
 */
public final class PartitionLimit {
  private final int maxPartitions;
  private final String tierName;

  public PartitionLimit(int maxPartitions, String tierName) {
    this.maxPartitions = maxPartitions;
    this.tierName = tierName;
  }

  public int maxPartitions() {
    return maxPartitions;
  }

  /**
   * Why adding {@code newPartitions} partitions of replication factor {@code replicationFactor}
   * must be refused, or empty if it fits; the text names the limit and the tier.
   *
   * @param alsoAdded replicas that earlier topics of the same request add
   */
  public Optional<String> refusal(
      MetadataImage image, int newPartitions, int replicationFactor, long alsoAdded) {
    final long brokers = image.brokers().values().stream().filter(BrokerInfo::active).count();
    if (brokers == 0 || newPartitions <= 0) {
      return Optional.empty();
    }
    long replicas = 0;
    for (TopicInfo topic : image.topics().values()) {
      for (int p = 0; p < topic.partitionCount(); p++) {
        replicas += topic.replicasOf(p).size();
      }
    }
    final long after = replicas + alsoAdded + (long) newPartitions * Math.max(1, replicationFactor);
    final long perBroker = (after + brokers - 1) / brokers;
    if (perBroker <= maxPartitions) {
      return Optional.empty();
    }
    return Optional.of(
        "adding "
            + newPartitions
            + " partitions (replication factor "
            + replicationFactor
            + ") would put "
            + perBroker
            + " partition replicas on each of "
            + brokers
            + " brokers, above the limit of "
            + maxPartitions
            + " of tier '"
            + tierName
            + "' (skiff.max.partitions); use a larger skiff.tier, add brokers or create fewer"
            + " partitions");
  }
}
