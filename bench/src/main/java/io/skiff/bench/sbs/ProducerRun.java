package io.skiff.bench.sbs;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One producer (kafka-clients, {@code acks=all}, every other setting the client's default unless
 * the run's {@code --producer-config} says otherwise: {@code linger.ms=5}, {@code
 * batch.size=16384}, idempotence on) sending records of a fixed random value and no key to one
 * topic for a given time, as fast as {@code send()} returns or paced to a fixed rate. Latency is
 * from just before {@code send()} to its callback (as Kafka's ProducerPerformance measures it, so
 * time blocked in a full send buffer counts), recorded in an HdrHistogram in microseconds;
 * acknowledged bytes are counted per second of the run. The callback runs on the producer's I/O
 * thread; {@link #run} returns after {@code flush()}, so the results are complete when it returns.
 */
final class ProducerRun {
  /** What one run measured. */
  record Outcome(
      long records,
      long bytes,
      double seconds,
      long errors,
      Histogram latencyMicros,
      double[] mbPerSecond) {}

  private static final long MAX_LATENCY_MICROS = TimeUnit.MINUTES.toMicros(10);

  private ProducerRun() {}

  /**
   * Sends for {@code seconds}, then flushes.
   *
   * @param megabytesPerSecond target rate in MB/s (2^20 bytes); 0 for no pacing
   */
  static Outcome run(
      String bootstrap,
      String topic,
      int seconds,
      int recordSize,
      int megabytesPerSecond,
      Map<String, String> config) {
    return run(bootstrap, topic, seconds, recordSize, megabytesPerSecond, Long.MAX_VALUE, config);
  }

  /**
   * Sends at full speed until {@code bytes} of records are sent (at most an hour), then flushes.
   */
  static Outcome fill(
      String bootstrap, String topic, long bytes, int recordSize, Map<String, String> config) {
    return run(
        bootstrap, topic, 3_600, recordSize, 0, (bytes + recordSize - 1) / recordSize, config);
  }

  private static Outcome run(
      String bootstrap,
      String topic,
      int seconds,
      int recordSize,
      int megabytesPerSecond,
      long maxRecords,
      Map<String, String> config) {
    final Properties p = new Properties();
    p.putAll(config);
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    final byte[] value = new byte[recordSize];
    new Random(42).nextBytes(value);
    final Histogram latency = new SynchronizedHistogram(MAX_LATENCY_MICROS, 3);
    final AtomicLongArray perSecond = new AtomicLongArray(seconds + 600);
    final AtomicLong acked = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final long intervalNs =
        megabytesPerSecond == 0 ? 0 : recordSize * 1_000_000_000L / (megabytesPerSecond << 20);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      producer.partitionsFor(topic); // metadata before the clock starts
      final long start = System.nanoTime();
      final long end = start + TimeUnit.SECONDS.toNanos(seconds);
      long sent = 0;
      for (long now = start; now < end && sent < maxRecords; now = System.nanoTime()) {
        if (intervalNs > 0 && now < start + sent * intervalNs) {
          LockSupport.parkNanos(start + sent * intervalNs - now);
          continue;
        }
        final long sendNs = System.nanoTime();
        producer.send(
            new ProducerRecord<>(topic, value),
            (metadata, e) -> {
              final long done = System.nanoTime();
              if (e != null) {
                errors.incrementAndGet();
                return;
              }
              latency.recordValue(Math.min(MAX_LATENCY_MICROS, (done - sendNs) / 1_000));
              acked.incrementAndGet();
              final int second =
                  (int) Math.min(perSecond.length() - 1, (done - start) / 1_000_000_000L);
              perSecond.addAndGet(second, recordSize);
            });
        sent++;
      }
      producer.flush();
      final double elapsed = (System.nanoTime() - start) / 1e9;
      final double[] series = new double[(int) Math.ceil(elapsed)];
      for (int i = 0; i < series.length && i < perSecond.length(); i++) {
        series[i] = perSecond.get(i) / (double) (1 << 20);
      }
      producer.close(Duration.ofSeconds(30));
      return new Outcome(
          acked.get(), acked.get() * recordSize, elapsed, errors.get(), latency.copy(), series);
    }
  }
}
