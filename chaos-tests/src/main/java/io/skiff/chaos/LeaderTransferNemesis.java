package io.skiff.chaos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Moves a partition's leadership to another replica the way an operator would, through the Admin
 * API: a reassignment to the same replicas in an order that puts another replica first, then a
 * preferred-leader election. The fault is the transfer itself (clients chase the new leader in the
 * middle of the load); the heal has nothing to undo.
 *
 * <p>Driven by one thread at a time; owns its Admin client until {@link #close()}.
 */
public final class LeaderTransferNemesis implements Nemesis, AutoCloseable {
  private static final long STEP_TIMEOUT_MS = 30_000;

  private final Admin admin;
  private final TopicPartition partition;

  public LeaderTransferNemesis(String bootstrap, String topic, int partition) {
    final Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
    this.admin = Admin.create(p);
    this.partition = new TopicPartition(topic, partition);
  }

  @Override
  public String start() throws Exception {
    final TopicPartitionInfo info =
        describe().partitions().stream()
            .filter(p -> p.partition() == partition.partition())
            .findFirst()
            .orElseThrow(() -> new IllegalStateException(partition + " is not in the metadata"));
    final Node leader = info.leader();
    final List<Integer> replicas = new ArrayList<>();
    info.replicas().forEach(n -> replicas.add(n.id()));
    if (leader == null || replicas.size() < 2) {
      throw new IllegalStateException(partition + " has no leader or one replica: " + replicas);
    }
    Collections.rotate(replicas, -(replicas.indexOf(leader.id()) + 1)); // the next one first
    admin
        .alterPartitionReassignments(
            Map.of(partition, Optional.of(new NewPartitionReassignment(replicas))))
        .all()
        .get(STEP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    awaitNoReassignment();
    final Optional<Throwable> failed =
        admin
            .electLeaders(ElectionType.PREFERRED, Set.of(partition))
            .partitions()
            .get(STEP_TIMEOUT_MS, TimeUnit.MILLISECONDS)
            .get(partition);
    if (failed != null && failed.isPresent()) {
      throw new IllegalStateException(
          "preferred election of " + partition + " failed", failed.get());
    }
    return "moved leadership of "
        + partition
        + " from broker "
        + leader.id()
        + " to "
        + replicas.get(0);
  }

  private TopicDescription describe() throws ExecutionException, InterruptedException {
    return admin
        .describeTopics(List.of(partition.topic()))
        .allTopicNames()
        .get()
        .get(partition.topic());
  }

  private void awaitNoReassignment() throws Exception {
    final long deadline = System.currentTimeMillis() + STEP_TIMEOUT_MS;
    while (!admin.listPartitionReassignments(Set.of(partition)).reassignments().get().isEmpty()) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("reassignment of " + partition + " did not finish");
      }
      Thread.sleep(200);
    }
  }

  @Override
  public String heal() {
    return "nothing to heal";
  }

  @Override
  public void close() {
    admin.close();
  }
}
