package io.skiff.cli.verify;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jepsen's Kafka queue workload against a live cluster: {@link WorkloadConfig#producers()}
 * producers send unique values to every partition, group consumers subscribe and commit, manually
 * assigned consumers read everything, and all of it goes into a {@link History}. Faults come from
 * outside (a nemesis, or an operator). After {@link #stop()} and the faults are healed, {@link
 * #drain} reads every partition from the start to its end, so that every acknowledged value is
 * either read or provably lost.
 *
 * <p>Lifecycle: {@link #createTopic}, {@link #start}, {@link #stop}, {@link #drain}; driven by one
 * thread. Producer processes are numbered from 0, group consumers from 100, assigned consumers from
 * 200, the drain is process 300.
 */
public final class QueueWorkload {
  private static final Logger LOG = LoggerFactory.getLogger(QueueWorkload.class);
  private static final int DRAIN_PROCESS = 300;

  private final WorkloadConfig config;
  private final History history;
  private final String group;
  private final List<QueueProducer> producers = new ArrayList<>();
  private final List<QueueConsumer> consumers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();

  public QueueWorkload(WorkloadConfig config, History history) {
    this.config = config;
    this.history = history;
    this.group = "skiff-verify-" + config.topic();
  }

  /**
   * Creates the topic (min.insync.replicas 2 when replicated 3 or more) and waits for leaders, all
   * within {@code timeout}. A retriable failure (a request that timed out while the cluster elects
   * its metadata leader or catches up after a fault) is retried; a topic that exists counts as
   * created, so a retry of a creation that did succeed is harmless.
   */
  public void createTopic(Duration timeout) throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = Admin.create(adminProperties())) {
      final NewTopic topic =
          new NewTopic(config.topic(), config.partitions(), (short) config.replicationFactor());
      if (config.replicationFactor() >= 3) {
        topic.configs(Map.of("min.insync.replicas", "2"));
      }
      while (true) {
        try {
          admin.createTopics(List.of(topic)).all().get();
          break;
        } catch (ExecutionException e) {
          if (e.getCause() instanceof TopicExistsException) {
            break;
          }
          if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "cannot create topic " + config.topic() + ": " + e.getCause().getMessage(), e);
          }
          LOG.info("creating topic {} again: {}", config.topic(), e.getCause().toString());
          Thread.sleep(500);
        }
      }
      awaitLeaders(admin, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }
  }

  private void awaitLeaders(Admin admin, Duration timeout) throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        final TopicDescription d =
            admin.describeTopics(List.of(config.topic())).allTopicNames().get().get(config.topic());
        if (d.partitions().size() == config.partitions()
            && d.partitions().stream().allMatch(p -> p.leader() != null)) {
          return;
        }
      } catch (ExecutionException e) {
        LOG.debug("topic {} not described yet: {}", config.topic(), e.getCause().toString());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "partitions of " + config.topic() + " have no leader after " + timeout);
      }
      Thread.sleep(200);
    }
  }

  /** Starts every producer and consumer on its own thread. */
  public void start() {
    for (int i = 0; i < config.producers(); i++) {
      final QueueProducer p = new QueueProducer(config, history, i);
      producers.add(p);
      threads.add(new Thread(p, "skiff-verify-producer-" + i));
    }
    for (int i = 0; i < config.groupConsumers(); i++) {
      final QueueConsumer c = new QueueConsumer(config, history, 100 + i, group);
      consumers.add(c);
      threads.add(new Thread(c, "skiff-verify-group-consumer-" + i));
    }
    for (int i = 0; i < config.assignedConsumers(); i++) {
      final QueueConsumer c = new QueueConsumer(config, history, 200 + i, null);
      consumers.add(c);
      threads.add(new Thread(c, "skiff-verify-assigned-consumer-" + i));
    }
    threads.forEach(Thread::start);
  }

  /** Stops the producers, then the consumers, and waits for all of them. */
  public void stop() throws InterruptedException {
    producers.forEach(QueueProducer::stop);
    consumers.forEach(QueueConsumer::stop);
    for (Thread t : threads) {
      t.join();
    }
  }

  /**
   * Reads every partition from the start to the end offset it has now; true when all of it was read
   * before {@code timeout}.
   */
  public boolean drain(Duration timeout) throws InterruptedException {
    final List<TopicPartition> all = QueueConsumer.partitions(config);
    final long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<String, String> consumer =
        QueueConsumer.newConsumer(config, "skiff-verify-drain", null)) {
      final Map<TopicPartition, Long> end = endOffsets(consumer, all, deadline);
      if (end == null) {
        return false;
      }
      history.record(Op.assign(DRAIN_PROCESS));
      consumer.assign(all);
      consumer.seekToBeginning(all);
      history.record(
          Op.assigned(
              DRAIN_PROCESS,
              all.stream().map(tp -> config.partitionName(tp.partition())).toList()));
      while (System.nanoTime() < deadline) {
        QueueConsumer.poll(consumer, history, DRAIN_PROCESS, config);
        if (reachedEnd(consumer, end)) {
          return true;
        }
      }
      LOG.warn("drain stopped after {} before reaching the end offsets {}", timeout, end);
      return false;
    }
  }

  private Map<TopicPartition, Long> endOffsets(
      KafkaConsumer<String, String> consumer, List<TopicPartition> all, long deadline)
      throws InterruptedException {
    while (System.nanoTime() < deadline) {
      try {
        return new HashMap<>(consumer.endOffsets(all, config.requestTimeout()));
      } catch (KafkaException e) {
        LOG.info("end offsets not available yet: {}", e.toString());
        Thread.sleep(500);
      }
    }
    return null;
  }

  private static boolean reachedEnd(
      KafkaConsumer<String, String> consumer, Map<TopicPartition, Long> end) {
    try {
      return end.entrySet().stream()
          .allMatch(e -> consumer.position(e.getKey(), Duration.ofSeconds(5)) >= e.getValue());
    } catch (KafkaException e) {
      return false;
    }
  }

  private Properties adminProperties() {
    final Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) config.requestTimeout().toMillis());
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
    return p;
  }
}
