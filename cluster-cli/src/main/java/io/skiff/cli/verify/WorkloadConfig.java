package io.skiff.cli.verify;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link QueueWorkload} runs. Immutable.
 *
 * @param bootstrap Kafka bootstrap servers, {@code host:port,...}
 * @param topic the topic written and read (created if missing)
 * @param partitions partitions of the topic
 * @param replicationFactor replicas per partition when the topic is created
 * @param producers concurrent producers, each sending one value at a time
 * @param groupConsumers consumers subscribed as one group, committing what they read
 * @param assignedConsumers consumers with every partition assigned manually, from the start
 * @param acks producer {@code acks}: {@code all} for the durability claim, {@code 1} to show loss
 * @param idempotent producer {@code enable.idempotence}
 * @param sendsPerSecond the most each producer sends per second
 * @param requestTimeout producer request and consumer API timeout
 */
public record WorkloadConfig(
    String bootstrap,
    String topic,
    int partitions,
    int replicationFactor,
    int producers,
    int groupConsumers,
    int assignedConsumers,
    String acks,
    boolean idempotent,
    int sendsPerSecond,
    Duration requestTimeout) {

  public WorkloadConfig {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(topic, "topic");
    if (partitions < 1 || replicationFactor < 1 || producers < 1 || sendsPerSecond < 1) {
      throw new IllegalArgumentException(
          "partitions, replication factor, producers and sends per second must be at least 1");
    }
    if (groupConsumers < 0 || assignedConsumers < 0 || groupConsumers + assignedConsumers < 1) {
      throw new IllegalArgumentException("the workload needs at least one consumer");
    }
  }

  /** The durability workload: idempotent acks=all producers, a group and a manual consumer. */
  public static WorkloadConfig durable(String bootstrap, String topic) {
    return new WorkloadConfig(
        bootstrap, topic, 4, 3, 3, 2, 1, "all", true, 100, Duration.ofSeconds(5));
  }

  /** This configuration with {@code acks} and idempotence changed. */
  public WorkloadConfig withAcks(String newAcks, boolean newIdempotent) {
    return new WorkloadConfig(
        bootstrap,
        topic,
        partitions,
        replicationFactor,
        producers,
        groupConsumers,
        assignedConsumers,
        newAcks,
        newIdempotent,
        sendsPerSecond,
        requestTimeout);
  }

  /** This configuration with {@code newPartitions} partitions in the topic. */
  public WorkloadConfig withPartitions(int newPartitions) {
    return new WorkloadConfig(
        bootstrap,
        topic,
        newPartitions,
        replicationFactor,
        producers,
        groupConsumers,
        assignedConsumers,
        acks,
        idempotent,
        sendsPerSecond,
        requestTimeout);
  }

  /** The history name of a partition of the topic. */
  public String partitionName(int partition) {
    return topic + "-" + partition;
  }
}
