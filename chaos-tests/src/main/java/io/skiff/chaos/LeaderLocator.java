package io.skiff.chaos;

import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Picks the broker a nemesis strikes: the current leader of one partition, as the cluster's
 * metadata tells it, or a random broker when the metadata cannot be had (no leader right now).
 *
 * <p>Thread-safe (the Admin client is); close it after the schedule.
 */
public final class LeaderLocator implements IntSupplier, AutoCloseable {
  private final Admin admin;
  private final String topic;
  private final int partition;
  private final List<Integer> brokers;
  private final Random random;

  public LeaderLocator(
      String bootstrap, String topic, int partition, List<Integer> brokers, long seed) {
    final Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
    this.admin = Admin.create(p);
    this.topic = topic;
    this.partition = partition;
    this.brokers = List.copyOf(brokers);
    this.random = new Random(seed);
  }

  /** The leader of the partition, or a random broker. */
  @Override
  public int getAsInt() {
    final int leader = leader();
    return leader >= 0 ? leader : randomBroker();
  }

  /** The leader of the partition, or -1 when there is none or it cannot be asked. */
  public int leader() {
    try {
      final TopicDescription d =
          admin.describeTopics(List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS).get(topic);
      return d.partitions().stream()
          .filter(p -> p.partition() == partition)
          .map(TopicPartitionInfo::leader)
          .filter(Objects::nonNull)
          .mapToInt(Node::id)
          .findFirst()
          .orElse(-1);
    } catch (ExecutionException | TimeoutException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** Any broker. */
  public synchronized int randomBroker() {
    return brokers.get(random.nextInt(brokers.size()));
  }

  /** The brokers other than {@code id}. */
  public List<Integer> others(int id) {
    return brokers.stream().filter(b -> b != id).toList();
  }

  @Override
  public void close() {
    admin.close();
  }
}
