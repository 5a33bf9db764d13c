package io.skiff.broker.memory;

/**
 * Where {@link MemoryPressure} reads memory usage: the JVM's ({@link JvmMemoryUsage}) in a broker,
 * a value the test sets in tests. Implementations are thread-safe and cheap to call.
 */
@FunctionalInterface
public interface MemoryUsageSource {
  /** The usage now. */
  MemoryReading read();

  /**
   * One reading.
   *
   * @param heapUsedAfterGc heap bytes live after the latest garbage collection (the young garbage a
   *     collection would free does not count as pressure)
   * @param heapMax the heap's maximum ({@code -Xmx})
   * @param directUsed direct (off-heap) buffer bytes in use, the JDK's and Netty's
   * @param directMax the direct memory limit ({@code -XX:MaxDirectMemorySize}, by default the heap
   *     maximum)
   */
  record MemoryReading(long heapUsedAfterGc, long heapMax, long directUsed, long directMax) {
    /** Heap used after GC as a fraction of the maximum; 0 when the maximum is unknown. */
    public double heapRatio() {
      return heapMax <= 0 ? 0 : (double) heapUsedAfterGc / heapMax;
    }

    /** Direct memory used as a fraction of its limit; 0 when the limit is unknown. */
    public double directRatio() {
      return directMax <= 0 ? 0 : (double) directUsed / directMax;
    }
  }
}
