package io.skiff.bench.sbs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The side-by-side harness's options, parsed from {@code --key value} arguments. Immutable.
 *
 * @param runs runs per system; every reported number is the median over them (min–max shown)
 * @param durationSeconds how long each produce workload sends
 * @param warmupSeconds how long each run's cluster takes produce load (RF=3, full speed, a topic of
 *     its own) before the first workload, unmeasured: 0 measures from a cold JVM, as a user's first
 *     minute; more measures the brokers once their JIT compilers are done
 * @param systems the systems to run, in order ({@code skiff}, {@code kafka})
 * @param workloads the workloads to run, in order (see {@link Workload})
 * @param partitions partitions of every benchmark topic
 * @param recordSize value bytes per record (no key)
 * @param heap the Kafka brokers' heap ({@code -Xms}/{@code -Xmx}); Skiff runs its dev tier's 1g
 *     unless this differs, then the same value
 * @param out directory for the JSON, PNG and (with {@code profile}) JFR files
 * @param skiffHome the Skiff checkout whose {@code ./skiff} starts the brokers
 * @param kafkaPeer the script that starts Apache Kafka ({@code kafka-peer.sh})
 * @param profile record the RF=3 max-throughput workload with JFR's profile settings and print the
 *     top frames by CPU and by allocation
 * @param restartGib the log, in GiB, that the {@code restart} workload writes before the kill
 * @param producerConfig kafka-clients producer settings that every producer of the run (warm-up,
 *     workloads, the restart fill) takes over the defaults, e.g. {@code batch.size}; {@code acks}
 *     and the serializers stay as the workloads need them
 */
record Options(
    int runs,
    int durationSeconds,
    int warmupSeconds,
    List<String> systems,
    List<Workload> workloads,
    int partitions,
    int recordSize,
    String heap,
    Path out,
    Path skiffHome,
    Path kafkaPeer,
    boolean profile,
    int restartGib,
    Map<String, String> producerConfig) {

  /** Producer settings the harness sets itself, which {@code --producer-config} may not change. */
  private static final List<String> FIXED_PRODUCER_CONFIG =
      List.of("acks", "bootstrap.servers", "key.serializer", "value.serializer");

  static final String USAGE =
      """
      usage: SideBySide [--quick] [--runs N] [--duration SECONDS] [--warmup SECONDS]
                        [--systems skiff,kafka]
                        [--workloads rf1-max,rf3-max,rf3-2mb,rf3-10mb,consume,restart]
                        [--partitions 6] [--record-size 1024] [--heap 1g] [--out bench/results]
                        [--skiff-home .] [--kafka-peer /work/shared/bench/kafka-peer.sh] [--profile]
                        [--restart-gib 10] [--producer-config key=value,...]
        --quick   15 s per workload, 1 run (a smoke run); later options still apply
      defaults: 3 runs of 60 s per workload, no warm-up, every workload but restart (which runs
      only when named, and last), skiff then kafka, the producer's defaults but acks=all""";

  static Options parse(String[] args) {
    int runs = 3;
    int duration = 60;
    int warmup = 0;
    List<String> systems = List.of("skiff", "kafka");
    List<Workload> workloads = Workload.DEFAULTS;
    int partitions = 6;
    int recordSize = 1024;
    String heap = "1g";
    Path out = Path.of("bench/results");
    Path skiffHome = Path.of(".");
    Path kafkaPeer = Path.of("/work/shared/bench/kafka-peer.sh");
    boolean profile = false;
    int restartGib = 10;
    Map<String, String> producerConfig = Map.of();
    for (int i = 0; i < args.length; i++) {
      final String key = args[i];
      if (key.equals("--quick")) {
        runs = 1;
        duration = 15;
        continue;
      }
      if (key.equals("--help") || key.equals("-h")) {
        throw new IllegalArgumentException(USAGE);
      }
      if (key.equals("--profile")) {
        profile = true;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(key + " needs a value\n" + USAGE);
      }
      final String value = args[++i];
      switch (key) {
        case "--runs" -> runs = atLeast(key, value, 1);
        case "--duration" -> duration = atLeast(key, value, 1);
        case "--warmup" -> warmup = atLeast(key, value, 0);
        case "--systems" -> systems = systems(value);
        case "--workloads" -> workloads = workloads(value);
        case "--partitions" -> partitions = atLeast(key, value, 1);
        case "--record-size" -> recordSize = atLeast(key, value, 1);
        case "--heap" -> heap = value;
        case "--out" -> out = Path.of(value);
        case "--skiff-home" -> skiffHome = Path.of(value);
        case "--kafka-peer" -> kafkaPeer = Path.of(value);
        case "--restart-gib" -> restartGib = atLeast(key, value, 1);
        case "--producer-config" -> producerConfig = producerConfig(value);
        default -> throw new IllegalArgumentException("unknown option " + key + "\n" + USAGE);
      }
    }
    return new Options(
        runs,
        duration,
        warmup,
        systems,
        workloads,
        partitions,
        recordSize,
        heap,
        out,
        skiffHome.toAbsolutePath().normalize(),
        kafkaPeer,
        profile,
        restartGib,
        producerConfig);
  }

  /**
   * {@code key=value,...} as producer settings, in order; none of {@link #FIXED_PRODUCER_CONFIG}.
   */
  private static Map<String, String> producerConfig(String value) {
    final Map<String, String> config = new LinkedHashMap<>();
    for (String pair : value.split(",")) {
      final int eq = pair.indexOf('=');
      if (eq <= 0 || eq == pair.length() - 1) {
        throw new IllegalArgumentException(
            "--producer-config takes key=value pairs separated by commas, got " + pair);
      }
      final String key = pair.substring(0, eq).trim();
      if (FIXED_PRODUCER_CONFIG.contains(key)) {
        throw new IllegalArgumentException(
            "--producer-config cannot set " + key + ": the harness sets it for every workload");
      }
      config.put(key, pair.substring(eq + 1).trim());
    }
    return Collections.unmodifiableMap(config);
  }

  /** {@code value} as a whole number of at least {@code min}, or an error naming {@code key}. */
  private static int atLeast(String key, String value, int min) {
    final int v;
    try {
      v = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " takes a whole number, got " + value, e);
    }
    if (v < min) {
      throw new IllegalArgumentException(key + " must be " + min + " or more, got " + value);
    }
    return v;
  }

  private static List<String> systems(String value) {
    final List<String> systems = new ArrayList<>();
    for (String s : value.split(",")) {
      if (!s.equals("skiff") && !s.equals("kafka")) {
        throw new IllegalArgumentException("--systems takes skiff and/or kafka, got " + s);
      }
      systems.add(s);
    }
    return List.copyOf(systems);
  }

  /** The named workloads in their order, except that {@code restart} moves to the end. */
  private static List<Workload> workloads(String value) {
    final List<Workload> workloads = new ArrayList<>();
    for (String w : value.split(",")) {
      workloads.add(Workload.byName(w));
    }
    if (workloads.remove(Workload.RESTART)) {
      workloads.add(Workload.RESTART);
    }
    return List.copyOf(workloads);
  }
}
