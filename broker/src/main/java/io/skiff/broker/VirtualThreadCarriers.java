package io.skiff.broker;

/**
 * The bound on the JDK virtual-thread scheduler's carrier threads for a broker JVM: {@value
 * #PER_CORE} per core, at least {@value #FLOOR}, unless the operator set {@value #MAX_POOL_SIZE}
 * (e.g. in {@code JAVA_OPTS}).
 *
 * <p>Ratis' per-partition daemons and its gRPC callbacks run on virtual threads. When one of them
 * blocks in an {@code fsync} (Raft log, term and vote, segment flush), the scheduler adds a carrier
 * thread so that the others keep running, up to {@code maxPoolSize}: 256 by default, and at 1000
 * partitions a broker kept 74–98 of them. With the bound, an {@code fsync} beyond it keeps its
 * carrier busy until the disk answers instead of adding one. The bound is not tight: a dead
 * broker's hundreds of groups elect at once on the survivors (every vote and term an fsync), and
 * with 16 carriers their gRPC callbacks (liveness probes included) waited behind those fsyncs for
 * seconds, long enough for the survivors to count each other dead; idle carriers retire after 30 s,
 * so an idle broker keeps far fewer. No virtual thread can wait forever for a carrier: on Java 24+
 * monitors and {@code Object.wait} unmount (JEP 491), and what still holds a carrier (file I/O,
 * native calls, class initialization) finishes without help from other virtual threads
 * (docs/raft-scaling.md, "Platform threads: gRPC executors and carriers").
 *
 * <p>The scheduler reads the property once, when the JVM starts its first virtual thread: {@link
 * #bound()} must run before that, first thing in {@code main}. Thread-safety: call it from the main
 * thread only.
 */
public final class VirtualThreadCarriers {
  /** The JDK's system property for the most carrier threads. */
  public static final String MAX_POOL_SIZE = "jdk.virtualThreadScheduler.maxPoolSize";

  static final int PER_CORE = 16;
  static final int FLOOR = 64;

  private VirtualThreadCarriers() {}

  /**
   * Sets {@value #MAX_POOL_SIZE} to {@link #limit} of this JVM's processors unless it is set.
   *
   * @return the bound in effect
   */
  public static int bound() {
    final String set = System.getProperty(MAX_POOL_SIZE);
    if (set != null) {
      return Integer.parseInt(set.trim());
    }
    final int limit = limit(Runtime.getRuntime().availableProcessors());
    System.setProperty(MAX_POOL_SIZE, Integer.toString(limit));
    return limit;
  }

  /** {@value #PER_CORE} carriers per core, at least {@value #FLOOR}; never fewer than the cores. */
  static int limit(int cores) {
    return Math.max(FLOOR, PER_CORE * cores);
  }
}
