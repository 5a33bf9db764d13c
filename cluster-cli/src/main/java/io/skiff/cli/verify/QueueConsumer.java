package io.skiff.cli.verify;

import io.skiff.cli.verify.Op.Fn;
import io.skiff.cli.verify.Op.Read;
import io.skiff.cli.verify.Op.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One workload consumer, recording every poll, commit and (re)assignment. In a group it subscribes
 * and commits what it read after each poll that returned records (a failed commit is FAIL: the
 * coordinator refused it); otherwise it assigns itself every partition and reads from the start.
 *
 * <p>Runs on its own thread until {@link #stop()}; the Kafka consumer is used by that thread only
 * ({@code wakeup} is the one call from another).
 */
final class QueueConsumer implements Runnable {
  private static final Duration POLL = Duration.ofMillis(500);

  private final WorkloadConfig config;
  private final History history;
  private final int process;
  private final String group;
  private final KafkaConsumer<String, String> consumer;
  private final Map<TopicPartition, Long> nextToCommit = new HashMap<>();
  private volatile boolean running = true;

  /** A consumer of {@code group}, or with manual assignment when {@code group} is null. */
  QueueConsumer(WorkloadConfig config, History history, int process, String group) {
    this.config = config;
    this.history = history;
    this.process = process;
    this.group = group;
    this.consumer = newConsumer(config, "skiff-verify-consumer-" + process, group);
  }

  void stop() {
    running = false;
    consumer.wakeup();
  }

  @Override
  public void run() {
    try {
      if (group != null) {
        consumer.subscribe(List.of(config.topic()), new Rebalances());
      } else {
        history.record(Op.assign(process));
        consumer.assign(partitions(config));
        consumer.seekToBeginning(partitions(config));
        history.record(Op.assigned(process, names(partitions(config))));
      }
      while (running) {
        if (poll(consumer, history, process, config) && group != null) {
          commit();
        }
      }
    } finally {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }

  /**
   * One recorded poll; true when it returned records. Errors are recorded INFO (a poll changes
   * nothing but the consumer's position), a wakeup ends the poll quietly.
   */
  static boolean poll(
      KafkaConsumer<String, String> consumer, History history, int process, WorkloadConfig c) {
    history.record(Op.poll(process));
    try {
      final ConsumerRecords<String, String> records = consumer.poll(POLL);
      final List<Read> reads = new ArrayList<>(records.count());
      for (ConsumerRecord<String, String> r : records) {
        reads.add(new Read(c.partitionName(r.partition()), r.offset(), Long.parseLong(r.value())));
      }
      history.record(Op.polled(process, reads));
      return !reads.isEmpty();
    } catch (WakeupException e) {
      history.record(Op.ended(process, Type.INFO, Fn.POLL, "stopped"));
      return false;
    } catch (KafkaException e) {
      history.record(Op.ended(process, Type.INFO, Fn.POLL, e.toString()));
      return false;
    }
  }

  private void commit() {
    try {
      for (TopicPartition tp : consumer.assignment()) {
        nextToCommit.put(tp, consumer.position(tp, config.requestTimeout()));
      }
    } catch (KafkaException e) {
      return; // no position to commit yet; the next poll tries again
    }
    nextToCommit.keySet().retainAll(consumer.assignment());
    final Map<String, Long> offsets = new HashMap<>();
    final Map<TopicPartition, OffsetAndMetadata> kafka = new HashMap<>();
    nextToCommit.forEach(
        (tp, offset) -> {
          offsets.put(config.partitionName(tp.partition()), offset);
          kafka.put(tp, new OffsetAndMetadata(offset));
        });
    history.record(Op.commit(process, offsets));
    try {
      consumer.commitSync(kafka, config.requestTimeout());
      history.record(Op.committed(process, Type.OK, offsets, null));
    } catch (CommitFailedException e) {
      history.record(Op.committed(process, Type.FAIL, offsets, e.getMessage()));
    } catch (WakeupException e) {
      history.record(Op.committed(process, Type.INFO, offsets, "stopped"));
    } catch (KafkaException e) {
      history.record(Op.committed(process, Type.INFO, offsets, e.toString()));
    }
  }

  /** Records each (re)assignment: positions may move, so poll order restarts. */
  private final class Rebalances implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      history.record(Op.assign(process));
      history.record(Op.assigned(process, names(consumer.assignment())));
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      history.record(Op.assign(process));
      history.record(Op.assigned(process, names(consumer.assignment())));
    }
  }

  static List<TopicPartition> partitions(WorkloadConfig config) {
    return IntStream.range(0, config.partitions())
        .mapToObj(p -> new TopicPartition(config.topic(), p))
        .toList();
  }

  private List<String> names(Collection<TopicPartition> partitions) {
    return partitions.stream().map(tp -> config.partitionName(tp.partition())).sorted().toList();
  }

  static KafkaConsumer<String, String> newConsumer(
      WorkloadConfig config, String clientId, String group) {
    final Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    if (group != null) {
      p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
    }
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) config.requestTimeout().toMillis());
    p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) config.requestTimeout().toMillis());
    p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }
}
