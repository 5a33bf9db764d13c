package io.skiff.cli.verify;

import io.skiff.cli.verify.Op.Type;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One workload producer: sends unique values round-robin over the topic's partitions, one at a
 * time, recording each send's invocation and completion. A send that fails is recorded INFO (it may
 * still have been written: a timeout says nothing); after a fatal error (an idempotent producer
 * fenced or out of sequence) the producer is replaced by a new one.
 *
 * <p>Runs on its own thread until {@link #stop()}; values are {@code process * 10^9 + n}.
 */
final class QueueProducer implements Runnable {
  private static final long VALUES_PER_PROCESS = 1_000_000_000L;

  private final WorkloadConfig config;
  private final History history;
  private final int process;
  private volatile boolean running = true;

  QueueProducer(WorkloadConfig config, History history, int process) {
    this.config = config;
    this.history = history;
    this.process = process;
  }

  void stop() {
    running = false;
  }

  @Override
  public void run() {
    final long intervalNanos = 1_000_000_000L / config.sendsPerSecond();
    long n = 0;
    KafkaProducer<String, String> producer = newProducer();
    try {
      while (running) {
        final long began = System.nanoTime();
        final int partition = (int) (n % config.partitions());
        if (!send(producer, partition, process * VALUES_PER_PROCESS + n)) {
          producer.close();
          producer = newProducer();
        }
        n++;
        LockSupport.parkNanos(intervalNanos - (System.nanoTime() - began));
      }
    } finally {
      producer.close();
    }
  }

  /** Sends one value; false when the producer must be replaced. */
  private boolean send(KafkaProducer<String, String> producer, int partition, long value) {
    final String name = config.partitionName(partition);
    history.record(Op.send(process, name, value));
    try {
      final RecordMetadata sent =
          producer
              .send(new ProducerRecord<>(config.topic(), partition, null, Long.toString(value)))
              .get();
      history.record(Op.sent(process, name, value, sent.offset()));
      return true;
    } catch (ExecutionException e) {
      history.record(Op.sendEnded(process, Type.INFO, name, value, String.valueOf(e.getCause())));
      return e.getCause() instanceof RetriableException;
    } catch (KafkaException e) {
      history.record(Op.sendEnded(process, Type.INFO, name, value, e.toString()));
      return false;
    } catch (InterruptedException e) {
      history.record(Op.sendEnded(process, Type.INFO, name, value, "interrupted"));
      Thread.currentThread().interrupt();
      running = false;
      return true;
    }
  }

  private KafkaProducer<String, String> newProducer() {
    final Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrap());
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "skiff-verify-producer-" + process);
    p.put(ProducerConfig.ACKS_CONFIG, config.acks());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(config.idempotent()));
    final int timeoutMs = (int) config.requestTimeout().toMillis();
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 3 * timeoutMs);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeoutMs);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 100);
    p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return new KafkaProducer<>(p);
  }
}
