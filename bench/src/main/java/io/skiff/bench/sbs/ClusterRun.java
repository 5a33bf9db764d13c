package io.skiff.bench.sbs;

import io.skiff.bench.memory.JfrMemoryReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Runs the selected workloads, in order, against one running cluster and measures each: the
 * client's figures plus the brokers' CPU seconds ({@code /proc/<pid>/stat}), peak RSS and threads
 * ({@code /proc/<pid>/status}), heap allocated and GC pauses (JFR through jcmd), all summed over
 * the three broker JVMs. Metric names (MB = 2^20 bytes):
 *
 * <pre>
 *   MB/s, records/s          acknowledged (produce) or read (consume), over the workload's time
 *   p50 ms, p99 ms, p99.9 ms produce latency (send() to callback)
 *   broker CPU s/MB          broker CPU seconds over the workload ÷ MB produced or read
 *   broker cores             broker CPU seconds ÷ wall seconds
 *   JIT share of CPU %       the JIT compiler threads' share of the broker CPU seconds
 *   heap alloc MB/MB         heap the brokers allocated ÷ MB produced or read
 *   GC pause p99 ms          over every collection of the three brokers in the workload
 *   peak RSS MiB, threads    peak of the sums, sampled every 500 ms
 *   errors                   produce callbacks with an exception; records a consumer did not get
 * </pre>
 *
 * Not thread-safe.
 */
final class ClusterRun {
  private static final double MIB = 1 << 20;
  private static final String WARMUP_TOPIC = "sbs-warmup";

  /** The broker the {@code restart} workload fills, kills and starts again. */
  private static final int RESTARTED_BROKER = 1;

  private static final Duration RESTART_TIMEOUT = Duration.ofMinutes(15);

  private final BenchCluster cluster;
  private final Options options;
  private final String system;
  private final int run;
  private final JfrRecorder jfr;

  ClusterRun(BenchCluster cluster, Options options, String system, int run) {
    this.cluster = cluster;
    this.options = options;
    this.system = system;
    this.run = run;
    this.jfr =
        new JfrRecorder(
            "sbs-" + system + "-run" + run, options.profile(), options.out().resolve("jfr"));
  }

  List<WorkloadResult> runAll() throws Exception {
    jfr.ensureStarted(cluster.pids()); // before the warm-up: see JfrRecorder
    createProduceTopics();
    if (options.warmupSeconds() > 0) {
      warmUp();
    }
    final List<WorkloadResult> results = new ArrayList<>();
    for (Workload w : options.workloads()) {
      log("workload " + w.label());
      if (w == Workload.CONSUME) {
        results.add(consume("consume-group", true));
        results.add(consume("consume-assign", false));
      } else if (w == Workload.RESTART) {
        results.add(restart());
      } else {
        results.add(produce(w));
      }
    }
    return results;
  }

  /**
   * Creates the topic of every produce workload of the run before the warm-up, so that what a
   * topic's creation costs the brokers (new Raft groups or partitions electing leaders and writing
   * their first entries; the JIT recompiling code that had never seen those branches taken, which
   * put the compiler threads back at a quarter to a third of Skiff's broker CPU for the workload
   * that followed) happens while nothing is measured. Each workload then writes to an idle topic of
   * its own.
   */
  private void createProduceTopics() throws InterruptedException, ExecutionException {
    for (Workload w : options.workloads()) {
      if (w != Workload.CONSUME && w != Workload.RESTART) {
        createTopic(w.topic(), w.replicationFactor());
      }
    }
  }

  /**
   * Sends at full speed for the warm-up time to topics of its own, which runs the produce,
   * replication and commit paths of every broker; nothing of it is measured. When a workload writes
   * with RF=1, the first half of the time goes to an RF=1 topic and the second to an RF=3 one (an
   * RF=1 partition commits without followers, through code an RF=3 warm-up never runs); otherwise
   * all of it goes to the RF=3 topic.
   */
  private void warmUp() throws Exception {
    log("warm-up " + options.warmupSeconds() + " s");
    final boolean rf1 =
        options.workloads().stream()
            .anyMatch(w -> w != Workload.RESTART && w.replicationFactor() == 1);
    final int rf1Seconds = rf1 ? options.warmupSeconds() / 2 : 0;
    if (rf1Seconds > 0) {
      warmUp(WARMUP_TOPIC + "-rf1", 1, rf1Seconds);
    }
    warmUp(
        WARMUP_TOPIC, Workload.RF3_MAX.replicationFactor(), options.warmupSeconds() - rf1Seconds);
  }

  private void warmUp(String topic, int rf, int seconds) throws Exception {
    createTopic(topic, rf);
    final ProducerRun.Outcome o =
        ProducerRun.run(
            cluster.bootstrap(), topic, seconds, options.recordSize(), 0, options.producerConfig());
    log(
        String.format(
            "warm-up RF=%d %.1f MB/s over %d s (not measured)",
            rf, o.bytes() / MIB / o.seconds(), seconds));
  }

  private WorkloadResult produce(Workload w) throws Exception {
    final boolean profile = options.profile() && w == Workload.RF3_MAX;
    final Measured<ProducerRun.Outcome> m =
        measure(
            w.label(),
            profile,
            () ->
                ProducerRun.run(
                    cluster.bootstrap(),
                    w.topic(),
                    options.durationSeconds(),
                    options.recordSize(),
                    w.megabytesPerSecond(),
                    options.producerConfig()));
    final ProducerRun.Outcome o = m.outcome();
    final Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("MB/s", o.bytes() / MIB / o.seconds());
    metrics.put("records/s", o.records() / o.seconds());
    metrics.put("p50 ms", o.latencyMicros().getValueAtPercentile(50) / 1e3);
    metrics.put("p99 ms", o.latencyMicros().getValueAtPercentile(99) / 1e3);
    metrics.put("p99.9 ms", o.latencyMicros().getValueAtPercentile(99.9) / 1e3);
    m.addBrokerCost(metrics, o.bytes(), o.seconds());
    metrics.put("errors", (double) o.errors());
    log(
        String.format(
            "%s %.1f MB/s, p99 %.0f ms", w.label(), metrics.get("MB/s"), metrics.get("p99 ms")));
    return new WorkloadResult(system, run, w.label(), metrics, o.latencyMicros(), o.mbPerSecond());
  }

  private WorkloadResult consume(String label, boolean group) throws Exception {
    final Measured<ConsumerRun.Outcome> m =
        measure(
            label,
            false,
            () -> ConsumerRun.run(cluster.bootstrap(), Workload.CONSUME.topic(), group));
    final ConsumerRun.Outcome o = m.outcome();
    final Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("MB/s", o.bytes() / MIB / o.seconds());
    metrics.put("records/s", o.records() / o.seconds());
    m.addBrokerCost(metrics, o.bytes(), o.seconds());
    // The last poll may return a few records past the expected count: no error.
    metrics.put("errors", (double) Math.max(0, o.expected() - o.records()));
    log(
        String.format(
            "%s %.1f MB/s (%d of %d records)",
            label, metrics.get("MB/s"), o.records(), o.expected()));
    return new WorkloadResult(system, run, label, metrics, null, null);
  }

  /**
   * Fills broker 1 with {@code --restart-gib} GiB (one replica per partition, all there), kills it
   * with SIGKILL, starts it again, and measures the time from the kill until every partition
   * acknowledges a write, and how many acknowledged records the restart lost (each partition's new
   * record must land at its old end or later).
   */
  private WorkloadResult restart() throws Exception {
    final String topic = Workload.RESTART.topic();
    createTopic(topic, 1, RESTARTED_BROKER);
    final ProducerRun.Outcome fill =
        ProducerRun.fill(
            cluster.bootstrap(),
            topic,
            (long) options.restartGib() << 30,
            options.recordSize(),
            options.producerConfig());
    final Map<TopicPartition, Long> ends =
        ServingProbe.endOffsets(cluster.bootstrap(), topic, options.partitions());
    log(
        String.format(
            "restart: %.2f GiB in %d partitions on broker %d (%.1f MB/s, %d send errors); kill -9",
            fill.bytes() / (double) (1L << 30),
            options.partitions(),
            RESTARTED_BROKER,
            fill.bytes() / MIB / fill.seconds(),
            fill.errors()));
    cluster.kill(RESTARTED_BROKER);
    final long killed = System.nanoTime();
    cluster.restart(RESTARTED_BROKER);
    final ServingProbe.Outcome served =
        ServingProbe.await(cluster.bootstrap(), ends, killed, RESTART_TIMEOUT);
    final Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("log GiB", fill.bytes() / (double) (1L << 30));
    metrics.put("s until serving", served.seconds());
    metrics.put("errors", (double) (fill.errors() + served.lostRecords()));
    log(
        String.format(
            "restart: every partition serves %.1f s after the kill; %d acknowledged records lost",
            served.seconds(), served.lostRecords()));
    return new WorkloadResult(system, run, Workload.RESTART.label(), metrics, null, null);
  }

  /** A workload's client outcome with what the brokers spent on it. */
  private record Measured<T>(
      T outcome, BrokerSampler.Cpu cpu, double[] peaks, JfrMemoryReport.Summary memory) {
    void addBrokerCost(Map<String, Double> metrics, long bytes, double seconds) {
      final double mb = Math.max(1e-9, bytes / MIB);
      metrics.put("broker CPU s/MB", cpu.seconds() / mb);
      metrics.put("broker cores", cpu.seconds() / seconds);
      metrics.put(
          "JIT share of CPU %", 100 * cpu.compilerSeconds() / Math.max(1e-9, cpu.seconds()));
      metrics.put("heap alloc MB/MB", memory.allocatedBytes() / MIB / mb);
      final List<Duration> pauses = memory.pauses();
      final Duration p99 =
          pauses.isEmpty()
              ? Duration.ZERO
              : pauses.get(Math.max(0, (int) Math.ceil(0.99 * pauses.size()) - 1));
      metrics.put("GC pause p99 ms", p99.toNanos() / 1e6);
      metrics.put("peak RSS MiB", peaks[0]);
      metrics.put("peak threads", peaks[1]);
    }
  }

  private <T> Measured<T> measure(String label, boolean profile, Supplier<T> body)
      throws IOException, InterruptedException {
    final List<Long> pids = cluster.pids();
    jfr.ensureStarted(pids);
    final BrokerSampler sampler = new BrokerSampler(pids);
    sampler.start();
    final BrokerSampler.Cpu cpu0 = sampler.cpu();
    final Instant begin = Instant.now();
    final T outcome = body.get();
    final Instant end = Instant.now();
    final BrokerSampler.Cpu cpu1 = sampler.cpu();
    final double[] peaks = sampler.stop();
    final List<Path> files = jfr.dump(pids, system + "-run" + run + "-" + label, begin, end);
    final JfrMemoryReport.Summary memory = JfrMemoryReport.summarise(files, begin, end);
    if (profile) {
      log("profile recordings: " + files);
      for (Path f : files) {
        JfrHotspots.print(f, begin, end, 15, System.out);
      }
    } else {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
    }
    return new Measured<>(outcome, cpu1.minus(cpu0), peaks, memory);
  }

  private void createTopic(String topic, int rf) throws InterruptedException, ExecutionException {
    createTopic(topic, rf, 0);
  }

  /**
   * Creates {@code topic} with {@code rf} replicas per partition, placed by the cluster or, when
   * {@code onBroker} is positive and {@code rf} 1, every partition on that broker; then waits until
   * every partition has a leader and a full ISR.
   */
  private void createTopic(String topic, int rf, int onBroker)
      throws InterruptedException, ExecutionException {
    final Map<String, Object> conf =
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
    try (Admin admin = Admin.create(conf)) {
      // A KRaft broker listens before its controller has registered it: wait for all of them.
      final long registered = System.currentTimeMillis() + 120_000;
      while (admin.describeCluster().nodes().get().size() < rf) {
        if (System.currentTimeMillis() > registered) {
          throw new IllegalStateException(
              "fewer than " + rf + " brokers registered after 120 s, cannot create " + topic);
        }
        Thread.sleep(250);
      }
      final NewTopic newTopic;
      if (onBroker > 0 && rf == 1) {
        final Map<Integer, List<Integer>> placement = new LinkedHashMap<>();
        for (int p = 0; p < options.partitions(); p++) {
          placement.put(p, List.of(onBroker));
        }
        newTopic = new NewTopic(topic, placement);
      } else {
        newTopic = new NewTopic(topic, options.partitions(), (short) rf);
      }
      admin
          .createTopics(
              List.of(newTopic.configs(Map.of("min.insync.replicas", rf > 1 ? "2" : "1"))))
          .all()
          .get();
      final long deadline = System.currentTimeMillis() + 120_000;
      while (!allInSync(admin, topic, rf)) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException(
              topic + ": partitions without a leader or full ISR after 120 s");
        }
        Thread.sleep(250);
      }
    }
    Thread.sleep(3_000); // let leaders settle before the clock starts, the same for both systems
  }

  private static boolean allInSync(Admin admin, String topic, int rf) throws InterruptedException {
    try {
      final TopicDescription d =
          admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      for (TopicPartitionInfo p : d.partitions()) {
        if (p.leader() == null || p.leader().id() < 0 || p.isr().size() < rf) {
          return false;
        }
      }
      return true;
    } catch (ExecutionException e) {
      return false; // not in the metadata yet
    }
  }

  private void log(String message) {
    System.err.printf(
        "[sbs %tT] %s run %d: %s%n", System.currentTimeMillis(), system, run, message);
  }
}
