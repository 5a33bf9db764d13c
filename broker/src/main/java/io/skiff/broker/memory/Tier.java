package io.skiff.broker.memory;

import java.util.List;
import java.util.Locale;

/**
 * A deployment tier ({@code skiff.tier}): the memory profile's sizing of one broker, from which the
 * memory settings take their defaults. The JVM options of each tier are in {@code
 * deploy/jvm/<name>.options}; the heap here must match them.
 *
 * <pre>
 *   tier    RAM     heap   direct  partitions  connections  produce  index mmap  offset cache
 *   ──────  ──────  ─────  ──────  ──────────  ───────────  ───────  ──────────  ────────────
 *   dev     4 GB    1 GB   512 MB     100         100        32 MB     256 MB       16 MB
 *   small   16 GB   4 GB   3 GB      2000        1000        32 MB       2 GB       64 MB
 *   medium  64 GB   6 GB   11 GB    10000        5000        64 MB       8 GB      128 MB
 *   large   128 GB  8 GB   31 GB    30000       10000       128 MB       8 GB      256 MB
 * </pre>
 *
 * <p>RAM, heap, partitions and connections are the seed's; the rest is Skiff's: produce memory
 * starts at the seed's {@code buffer.memory} (32 MiB) and grows with the heap, the index budget is
 * the seed's ~5 MB per partition capped at its 8 GB, the offset cache ~200 B per entry. Direct
 * memory is not the seed's 256 MB: each hosted Raft group holds a 1 MiB direct write buffer
 * (docs/raft-scaling.md), so the limit is partitions × 1 MiB + 512 MiB for the network.
 *
 * @param name the tier's name, as {@code skiff.tier} spells it
 * @param heapBytes the JVM heap ({@code -Xms} = {@code -Xmx})
 * @param directMemoryBytes {@code -XX:MaxDirectMemorySize}
 * @param maxPartitions partition replicas per broker (CreateTopics/CreatePartitions refuse more)
 * @param maxConnections Kafka connections open at once per broker
 * @param produceMemoryBytes the {@link ProduceMemoryPool} size
 * @param requestPoolSmallRetained 4 KiB request buffers the {@link RequestBufferPool} keeps
 * @param requestPoolMediumRetained 64 KiB request buffers the {@link RequestBufferPool} keeps
 * @param requestPoolLargeRetainedBytes bytes of large (≥ 1 MiB) request buffers it keeps, about a
 *     sixteenth of the heap
 * @param maxMappedIndexBytes the budget of mapped offset and time indexes
 * @param offsetCacheBytes the consumer offset cache budget
 */
public record Tier(
    String name,
    long heapBytes,
    long directMemoryBytes,
    int maxPartitions,
    int maxConnections,
    long produceMemoryBytes,
    int requestPoolSmallRetained,
    int requestPoolMediumRetained,
    long requestPoolLargeRetainedBytes,
    long maxMappedIndexBytes,
    long offsetCacheBytes) {

  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;

  public static final Tier DEV =
      new Tier("dev", GIB, 512 * MIB, 100, 100, 32 * MIB, 256, 64, 64 * MIB, 256 * MIB, 16 * MIB);
  public static final Tier SMALL =
      new Tier(
          "small", 4 * GIB, 3 * GIB, 2_000, 1_000, 32 * MIB, 1024, 256, 256 * MIB, 2 * GIB,
          64 * MIB);
  public static final Tier MEDIUM =
      new Tier(
          "medium", 6 * GIB, 11 * GIB, 10_000, 5_000, 64 * MIB, 4096, 512, 384 * MIB, 8 * GIB,
          128 * MIB);
  public static final Tier LARGE =
      new Tier(
          "large", 8 * GIB, 31 * GIB, 30_000, 10_000, 128 * MIB, 8192, 1024, 512 * MIB, 8 * GIB,
          256 * MIB);

  /** Every tier, smallest first. */
  public static final List<Tier> ALL = List.of(DEV, SMALL, MEDIUM, LARGE);

  /** The tier {@code skiff.tier} names (case-insensitive). */
  public static Tier named(String name) {
    final String wanted = name.trim().toLowerCase(Locale.ROOT);
    return ALL.stream()
        .filter(t -> t.name.equals(wanted))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "skiff.tier must be one of dev, small, medium, large but was '" + name + "'"));
  }
}
