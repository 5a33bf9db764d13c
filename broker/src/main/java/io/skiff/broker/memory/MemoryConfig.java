package io.skiff.broker.memory;

import io.skiff.broker.TypedProperties;
import java.util.List;
import java.util.Map;

/**
 * The memory profile's settings of one broker: a {@link Tier} and the keys that override its
 * defaults. Built from the broker's properties; validated on construction.
 *
 * <pre>
 *   key                                  default
 *   ───────────────────────────────────  ──────────────────────────────
 *   skiff.tier                           small   (./skiff dev: dev)
 *   max.connections                      tier's max connections
 *   skiff.max.partitions                 tier's max partitions
 *   skiff.produce.memory.bytes           tier's produce memory
 *   skiff.produce.memory.max.block.ms    10000
 *   skiff.request.pool.small.retained    tier's
 *   skiff.request.pool.medium.retained   tier's
 *   skiff.request.pool.large.retained.bytes  tier's
 * </pre>
 *
 * @param tier the deployment tier
 * @param maxConnections Kafka connections open at once
 * @param maxPartitions partition replicas per broker
 * @param produceMemoryBytes the produce memory pool's size
 * @param produceMaxBlockMs how long a Produce request waits for produce memory before it is
 *     answered REQUEST_TIMED_OUT; below the clients' {@code request.timeout.ms} (30 s by default)
 * @param requestPoolSmallRetained 4 KiB request buffers kept for reuse
 * @param requestPoolMediumRetained 64 KiB request buffers kept for reuse
 * @param requestPoolLargeRetainedBytes bytes of large request buffers kept for reuse
 */
public record MemoryConfig(
    Tier tier,
    int maxConnections,
    int maxPartitions,
    long produceMemoryBytes,
    long produceMaxBlockMs,
    int requestPoolSmallRetained,
    int requestPoolMediumRetained,
    long requestPoolLargeRetainedBytes) {

  public static final String TIER = "skiff.tier";
  public static final String MAX_CONNECTIONS = "max.connections";
  public static final String MAX_PARTITIONS = "skiff.max.partitions";
  public static final String PRODUCE_MEMORY_BYTES = "skiff.produce.memory.bytes";
  public static final String PRODUCE_MAX_BLOCK_MS = "skiff.produce.memory.max.block.ms";
  public static final String REQUEST_POOL_SMALL = "skiff.request.pool.small.retained";
  public static final String REQUEST_POOL_MEDIUM = "skiff.request.pool.medium.retained";
  public static final String REQUEST_POOL_LARGE_BYTES = "skiff.request.pool.large.retained.bytes";

  /** The keys read here, for environment overrides and DescribeConfigs. */
  public static final List<String> KEYS =
      List.of(
          TIER,
          MAX_CONNECTIONS,
          MAX_PARTITIONS,
          PRODUCE_MEMORY_BYTES,
          PRODUCE_MAX_BLOCK_MS,
          REQUEST_POOL_SMALL,
          REQUEST_POOL_MEDIUM,
          REQUEST_POOL_LARGE_BYTES);

  public static final Tier DEFAULT_TIER = Tier.SMALL;
  public static final long DEFAULT_PRODUCE_MAX_BLOCK_MS = 10_000;

  public MemoryConfig {
    positive(MAX_CONNECTIONS, maxConnections);
    positive(MAX_PARTITIONS, maxPartitions);
    positive(PRODUCE_MAX_BLOCK_MS, produceMaxBlockMs);
    if (produceMemoryBytes < ProduceMemoryPool.DEFAULT_BATCH_SIZE) {
      throw new IllegalArgumentException(
          PRODUCE_MEMORY_BYTES
              + " must be at least "
              + ProduceMemoryPool.DEFAULT_BATCH_SIZE
              + " but was "
              + produceMemoryBytes);
    }
    if (requestPoolSmallRetained < 0
        || requestPoolMediumRetained < 0
        || requestPoolLargeRetainedBytes < 0) {
      throw new IllegalArgumentException(
          REQUEST_POOL_SMALL
              + ", "
              + REQUEST_POOL_MEDIUM
              + " and "
              + REQUEST_POOL_LARGE_BYTES
              + " must be >= 0");
    }
  }

  private static void positive(String key, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + " must be > 0 but was " + value);
    }
  }

  /** The tier's settings, nothing overridden. */
  public static MemoryConfig of(Tier tier) {
    return new MemoryConfig(
        tier,
        tier.maxConnections(),
        tier.maxPartitions(),
        tier.produceMemoryBytes(),
        DEFAULT_PRODUCE_MAX_BLOCK_MS,
        tier.requestPoolSmallRetained(),
        tier.requestPoolMediumRetained(),
        tier.requestPoolLargeRetainedBytes());
  }

  /** Reads the keys above from broker properties. */
  public static MemoryConfig fromProperties(Map<String, String> values) {
    final String tierName = values.get(TIER);
    final Tier tier = tierName == null || tierName.isBlank() ? DEFAULT_TIER : Tier.named(tierName);
    final TypedProperties k = new TypedProperties(values);
    return new MemoryConfig(
        tier,
        k.intValue(MAX_CONNECTIONS, tier.maxConnections()),
        k.intValue(MAX_PARTITIONS, tier.maxPartitions()),
        k.longValue(PRODUCE_MEMORY_BYTES, tier.produceMemoryBytes()),
        k.longValue(PRODUCE_MAX_BLOCK_MS, DEFAULT_PRODUCE_MAX_BLOCK_MS),
        k.intValue(REQUEST_POOL_SMALL, tier.requestPoolSmallRetained()),
        k.intValue(REQUEST_POOL_MEDIUM, tier.requestPoolMediumRetained()),
        k.longValue(REQUEST_POOL_LARGE_BYTES, tier.requestPoolLargeRetainedBytes()));
  }

  /** The settings under their keys, for DescribeConfigs. */
  public Map<String, String> properties() {
    return Map.of(
        TIER, tier.name(),
        MAX_CONNECTIONS, Integer.toString(maxConnections),
        MAX_PARTITIONS, Integer.toString(maxPartitions),
        PRODUCE_MEMORY_BYTES, Long.toString(produceMemoryBytes),
        PRODUCE_MAX_BLOCK_MS, Long.toString(produceMaxBlockMs),
        REQUEST_POOL_SMALL, Integer.toString(requestPoolSmallRetained),
        REQUEST_POOL_MEDIUM, Integer.toString(requestPoolMediumRetained),
        REQUEST_POOL_LARGE_BYTES, Long.toString(requestPoolLargeRetainedBytes));
  }
}
