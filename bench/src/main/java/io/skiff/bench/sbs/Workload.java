package io.skiff.bench.sbs;

/**
 * The harness's workloads. Produce workloads send 1 KiB records (by default) with {@code acks=all}
 * and otherwise the client's defaults for the run's duration, at full speed or at a fixed rate;
 * {@code consume} reads the first million records {@code rf1-max} wrote (the same amount on both
 * systems), once with a consumer group and once with {@code assign()}, from a warm page cache.
 * {@code restart} fills one broker with a log of {@code --restart-gib} GiB (one replica per
 * partition, all on broker 1), kills that broker with SIGKILL, starts it again and measures the
 * time until every partition takes writes and still ends where it did; it runs only when asked for,
 * and last (it replaces a broker process).
 */
enum Workload {
  RF1_MAX("rf1-max", 1, 0),
  RF3_MAX("rf3-max", 3, 0),
  RF3_2MB("rf3-2mb", 3, 2),
  RF3_10MB("rf3-10mb", 3, 10),
  CONSUME("consume", 1, 0),
  RESTART("restart", 1, 0);

  /** The workloads a run has when none are named: all but {@link #RESTART}. */
  static final java.util.List<Workload> DEFAULTS =
      java.util.List.of(RF1_MAX, RF3_MAX, RF3_2MB, RF3_10MB, CONSUME);

  private final String label;
  private final int replicationFactor;
  private final int megabytesPerSecond;

  Workload(String label, int replicationFactor, int megabytesPerSecond) {
    this.label = label;
    this.replicationFactor = replicationFactor;
    this.megabytesPerSecond = megabytesPerSecond;
  }

  static Workload byName(String name) {
    for (Workload w : values()) {
      if (w.label.equals(name)) {
        return w;
      }
    }
    throw new IllegalArgumentException(
        "unknown workload "
            + name
            + "; known: rf1-max, rf3-max, rf3-2mb, rf3-10mb, consume, restart");
  }

  String label() {
    return label;
  }

  /** The topic this workload writes or reads; {@code consume} reads {@code rf1-max}'s. */
  String topic() {
    return this == CONSUME ? RF1_MAX.topic() : "sbs-" + label;
  }

  int replicationFactor() {
    return replicationFactor;
  }

  /** Target rate in MB/s (2^20 bytes), 0 for as fast as the cluster takes it. */
  int megabytesPerSecond() {
    return megabytesPerSecond;
  }
}
