package io.skiff.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Moves one replica of a partition to a broker that holds none, as {@code skiff partition move
 * topic/p --replicas ...} does (its code path: a Kafka {@code AlterPartitionReassignments}): a
 * random replica, the leader as likely as a follower, is replaced in place by a random other
 * broker. The move runs during the fault window ({@code --no-wait}: the new replica joins as a
 * listener, catches up, becomes a voter, the old one leaves); the heal waits until it is done.
 * Needs more brokers than the replication factor.
 *
 * <p>Driven by one thread at a time; owns its Admin client until {@link #close()}.
 */
public final class ReplicaMoveNemesis implements Nemesis, AutoCloseable {
  private static final long MOVE_TIMEOUT_MS = 180_000;

  private final SkiffCommandLine skiff;
  private final Admin admin;
  private final TopicPartition partition;
  private final List<Integer> brokers;
  private final Random random;
  private boolean moving;

  public ReplicaMoveNemesis(
      SkiffCommandLine skiff, String topic, int partition, List<Integer> brokers, long seed) {
    this.skiff = skiff;
    final Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, skiff.bootstrap());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
    this.admin = Admin.create(p);
    this.partition = new TopicPartition(topic, partition);
    this.brokers = List.copyOf(brokers);
    this.random = new Random(seed);
  }

  @Override
  public String start() throws Exception {
    final List<Integer> replicas = new ArrayList<>(replicas());
    final List<Integer> spare = brokers.stream().filter(b -> !replicas.contains(b)).toList();
    if (spare.isEmpty()) {
      throw new IllegalStateException(partition + " is on every broker: nowhere to move it");
    }
    final int slot = random.nextInt(replicas.size());
    final int from = replicas.get(slot);
    final int to = spare.get(random.nextInt(spare.size()));
    replicas.set(slot, to);
    final String csv = String.join(",", replicas.stream().map(String::valueOf).toList());
    skiff.run(
        "partition",
        "move",
        partition.topic() + "/" + partition.partition(),
        "--replicas",
        csv,
        "--no-wait");
    moving = true;
    return "replica move of " + partition + " from broker " + from + " to " + to + " -> " + csv;
  }

  private List<Integer> replicas() throws Exception {
    final TopicPartitionInfo info =
        admin
            .describeTopics(List.of(partition.topic()))
            .allTopicNames()
            .get(15, TimeUnit.SECONDS)
            .get(partition.topic())
            .partitions()
            .get(partition.partition());
    return info.replicas().stream().map(Node::id).toList();
  }

  @Override
  public String heal() throws Exception {
    if (!moving) {
      return "no move under way";
    }
    final long deadline = System.currentTimeMillis() + MOVE_TIMEOUT_MS;
    while (!admin
        .listPartitionReassignments(Set.of(partition))
        .reassignments()
        .get(15, TimeUnit.SECONDS)
        .isEmpty()) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException(
            "the move of " + partition + " did not finish in " + MOVE_TIMEOUT_MS + " ms");
      }
      Thread.sleep(500);
    }
    moving = false;
    return "move of " + partition + " done: replicas " + replicas();
  }

  @Override
  public void close() {
    admin.close();
  }
}
