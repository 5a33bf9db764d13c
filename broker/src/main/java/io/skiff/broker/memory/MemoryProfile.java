package io.skiff.broker.memory;

import com.codahale.metrics.MetricRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker's memory profile, assembled from its {@link MemoryConfig}: the request buffer pool
 * (and the Netty allocator over it), the produce memory pool, the memory pressure level with its
 * request backpressure, the tier's partition limit, and the leak detector; {@link #toJson} is the
 * admin endpoint {@code /v1/memory}.
 *
 * <p>{@link #start} registers every piece's metrics and refreshes the pressure level every second
 * on the given scheduler (GC notifications keep the heap reading current between refreshes).
 *
 * <p>Thread-safety: the pieces are thread-safe; {@link #start} and {@link #close} are called once
 * by the owner (the broker), which owns the GC listeners and the refresh task through this object.
 */
public final class MemoryProfile implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MemoryProfile.class);
  private static final long REFRESH_MS = 1_000;
  private static final long SNAPSHOT_MS = 60_000;
  private static final int SNAPSHOTS = 6 * 60; // six hours of one a minute

  private final MemoryConfig config;
  private final RequestBufferPool requestBuffers;
  private final RequestFrameAllocator frameAllocator;
  private final ProduceMemoryPool produceMemory;
  private final JvmMemoryUsage jvmUsage;
  private final SwitchableUsage usage;
  private final MemoryPressure pressure;
  private final RequestBackpressure backpressure;
  private final PartitionLimit partitionLimit;
  private final MemoryLeakDetector leakDetector =
      new MemoryLeakDetector(
          TimeUnit.HOURS.toNanos(1),
          MemoryLeakDetector.DEFAULT_THRESHOLD_BYTES_PER_HOUR,
          SNAPSHOTS);
  private final List<MemoryCategory> categories = new CopyOnWriteArrayList<>();
  private ScheduledFuture<?> refresh;
  private ScheduledFuture<?> snapshots;

  public MemoryProfile(MemoryConfig config) {
    this.config = config;
    this.requestBuffers =
        new RequestBufferPool(
            config.requestPoolSmallRetained(),
            config.requestPoolMediumRetained(),
            config.requestPoolLargeRetainedBytes());
    this.frameAllocator = new RequestFrameAllocator(requestBuffers);
    this.produceMemory =
        new ProduceMemoryPool(config.produceMemoryBytes(), ProduceMemoryPool.DEFAULT_BATCH_SIZE);
    this.jvmUsage = new JvmMemoryUsage();
    this.usage = new SwitchableUsage(jvmUsage);
    this.pressure = new MemoryPressure(usage);
    this.backpressure = new RequestBackpressure(pressure);
    this.partitionLimit = new PartitionLimit(config.maxPartitions(), config.tier().name());
    addCategory(
        MemoryCategory.bytes(
            "heap (after GC)",
            () -> pressure.lastReading().heapUsedAfterGc(),
            () -> pressure.lastReading().heapMax(),
            "move partitions to other brokers"));
    addCategory(
        MemoryCategory.bytes(
            "direct",
            () -> pressure.lastReading().directUsed(),
            () -> pressure.lastReading().directMax(),
            "host fewer partitions (each Raft group holds a 1 MiB write buffer)"));
    addCategory(
        MemoryCategory.bytes(
            "mapped", jvmUsage::mappedUsed, () -> -1, "lower retention (fewer segments)"));
    addCategory(
        MemoryCategory.bytes(
            "produce memory",
            produceMemory::usedBytes,
            produceMemory::totalBytes,
            "raise " + MemoryConfig.PRODUCE_MEMORY_BYTES + " or slow the producers"));
    addCategory(
        MemoryCategory.bytes(
            "request buffers (large)",
            () -> requestBuffers.inUseBytes(RequestBufferPool.SizeClass.LARGE),
            () -> config.requestPoolLargeRetainedBytes(),
            "lower the clients' max.request.size"));
  }

  /**
   * Adds a category to the {@code /v1/memory} report; the broker adds those kept outside this
   * profile (index mmap, offset cache, replica fetch buffer, connections, partitions).
   */
  public void addCategory(MemoryCategory category) {
    categories.add(category);
  }

  /** The categories of the report, in the order added. */
  public List<MemoryCategory> categories() {
    return List.copyOf(categories);
  }

  /**
   * Registers the metrics, starts refreshing the pressure level every second and taking a leak
   * detector snapshot every minute.
   *
   * @param connections the Kafka connections open now, for the snapshots
   * @param partitions the partition replicas hosted now, for the snapshots
   * @param groups the consumer groups coordinated now, for the snapshots
   */
  public void start(
      MetricRegistry metrics,
      ScheduledExecutorService scheduler,
      IntSupplier connections,
      IntSupplier partitions,
      IntSupplier groups) {
    requestBuffers.registerMetrics(metrics);
    produceMemory.registerMetrics(metrics);
    pressure.registerMetrics(metrics);
    leakDetector.registerMetrics(metrics);
    metrics.gauge("memory.tier.max.partitions", () -> config::maxPartitions);
    metrics.gauge("memory.tier.max.connections", () -> config::maxConnections);
    pressure.refresh();
    refresh =
        scheduler.scheduleWithFixedDelay(
            this::refreshQuietly, REFRESH_MS, REFRESH_MS, TimeUnit.MILLISECONDS);
    snapshots =
        scheduler.scheduleWithFixedDelay(
            () -> snapshotQuietly(connections, partitions, groups),
            0,
            SNAPSHOT_MS,
            TimeUnit.MILLISECONDS);
    LOG.info(
        "Memory profile: tier {}, max {} connections, {} partitions, produce memory {} KiB",
        config.tier().name(),
        config.maxConnections(),
        config.maxPartitions(),
        config.produceMemoryBytes() >> 10);
  }

  private void refreshQuietly() {
    try {
      pressure.refresh();
    } catch (RuntimeException e) {
      LOG.warn("Memory pressure refresh failed; keeping level {}", pressure.level(), e);
    }
  }

  private void snapshotQuietly(
      IntSupplier connections, IntSupplier partitions, IntSupplier groups) {
    try {
      final MemoryUsageSource.MemoryReading r = jvmUsage.read();
      leakDetector.record(
          new MemoryLeakDetector.MemorySnapshot(
              System.nanoTime(),
              r.heapUsedAfterGc(),
              r.directUsed(),
              jvmUsage.mappedUsed(),
              connections.getAsInt(),
              partitions.getAsInt(),
              groups.getAsInt()));
    } catch (RuntimeException e) {
      LOG.warn("Memory snapshot for the leak detector failed", e);
    }
  }

  /**
   * The {@code /v1/memory} report as JSON.
   *
   * @param nodeId the broker's id
   * @param pageCacheHitRatio the latest page cache hit ratio estimate, -1 if unknown
   */
  public String toJson(int nodeId, double pageCacheHitRatio) {
    return MemoryReport.json(this, nodeId, pageCacheHitRatio);
  }

  /**
   * Reads memory usage from {@code source} instead of the JVM from now on (tests use it to set the
   * pressure level), and refreshes the level.
   */
  public MemoryPressure.Level useUsageSource(MemoryUsageSource source) {
    usage.use(source);
    return pressure.refresh();
  }

  public MemoryConfig config() {
    return config;
  }

  public RequestBufferPool requestBuffers() {
    return requestBuffers;
  }

  public RequestFrameAllocator frameAllocator() {
    return frameAllocator;
  }

  public ProduceMemoryPool produceMemory() {
    return produceMemory;
  }

  public MemoryPressure pressure() {
    return pressure;
  }

  public RequestBackpressure backpressure() {
    return backpressure;
  }

  public PartitionLimit partitionLimit() {
    return partitionLimit;
  }

  public MemoryLeakDetector leakDetector() {
    return leakDetector;
  }

  @Override
  public void close() {
    if (refresh != null) {
      refresh.cancel(false);
      snapshots.cancel(false);
    }
    jvmUsage.close();
  }

  /** A usage source that forwards to another, replaceable at run time. */
  private static final class SwitchableUsage implements MemoryUsageSource {
    private volatile MemoryUsageSource source;

    SwitchableUsage(MemoryUsageSource source) {
      this.source = source;
    }

    void use(MemoryUsageSource next) {
      source = next;
    }

    @Override
    public MemoryReading read() {
      return source.read();
    }
  }
}
