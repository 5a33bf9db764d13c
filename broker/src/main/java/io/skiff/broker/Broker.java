package io.skiff.broker;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.jmx.JmxReporter;
import io.skiff.broker.admin.AdminHttpServer;
import io.skiff.broker.admin.HealthStatus;
import io.skiff.broker.admin.LatencyHistogram;
import io.skiff.broker.admin.PageCacheHitRatio;
import io.skiff.broker.admin.ProcessMetrics;
import io.skiff.broker.admin.SourcedCounter;
import io.skiff.broker.api.AlterPartitionReassignmentsHandler;
import io.skiff.broker.api.ApiRegistry;
import io.skiff.broker.api.ApiVersionsHandler;
import io.skiff.broker.api.ClusterView;
import io.skiff.broker.api.CreatePartitionsHandler;
import io.skiff.broker.api.CreateTopicsHandler;
import io.skiff.broker.api.DeleteRecordsHandler;
import io.skiff.broker.api.DeleteTopicsHandler;
import io.skiff.broker.api.DescribeClusterHandler;
import io.skiff.broker.api.DescribeConfigsHandler;
import io.skiff.broker.api.DescribeLogDirsHandler;
import io.skiff.broker.api.ElectLeadersHandler;
import io.skiff.broker.api.FetchHandler;
import io.skiff.broker.api.GroupApis;
import io.skiff.broker.api.IncrementalAlterConfigsHandler;
import io.skiff.broker.api.InitProducerIdHandler;
import io.skiff.broker.api.ListOffsetsHandler;
import io.skiff.broker.api.ListPartitionReassignmentsHandler;
import io.skiff.broker.api.MetadataHandler;
import io.skiff.broker.api.ProduceHandler;
import io.skiff.broker.api.ProducerIdBlock;
import io.skiff.broker.api.RemoteLeaders;
import io.skiff.broker.api.RequestDeadlines;
import io.skiff.broker.api.TopicConfigSchema;
import io.skiff.broker.group.GroupCoordinator;
import io.skiff.broker.group.OffsetCache;
import io.skiff.broker.memory.MemoryCategory;
import io.skiff.broker.memory.MemoryProfile;
import io.skiff.broker.net.ConnectionLimits;
import io.skiff.broker.net.KafkaServer;
import io.skiff.broker.net.NetworkMetrics;
import io.skiff.raft.RaftNode;
import io.skiff.raft.catchup.ReplicationThrottleApplier;
import io.skiff.raft.leadership.ElectionCounters;
import io.skiff.raft.membership.PartitionReconciler;
import io.skiff.raft.membership.ReassignmentDriver;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataService;
import io.skiff.raft.metadata.TopicConfigApplier;
import io.skiff.raft.metadata.TopicInfo;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Skiff broker: its Raft node (partition groups and the metadata group), the Kafka listener
 * with its request handlers, and the background work (retention, preferred leader elections on
 * {@code skiff-leader-election-N}, whose busy count is the {@code leader.elections.active} gauge;
 * partition reassignments of the partitions led here on {@code skiff-reassignment-driver}), the
 * group coordinator for the {@code __consumer_offsets} partitions led here, topic config
 * application, and the memory profile (pools, pressure, tier limits, {@code /v1/memory}). {@link
 * #start} brings it up in dependency order; {@link #close} takes it down in reverse; {@link
 * #shutdown} (SIGTERM) first hands its leaderships away and answers the requests in flight.
 * Leaderships come back through the {@link PreferredLeaderElector} once a restarted broker has
 * caught up.
 */
public final class Broker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
  private static final long RETENTION_CHECK_MS = TimeUnit.MINUTES.toMillis(5);
  private static final int ELECTION_THREADS = 2;
  private static final Duration REASSIGNMENT_CATCH_UP = Duration.ofSeconds(60);
  private static final long FIRST_PREFERRED_CHECK_MS = 5_000;
  private static final long MEMBERSHIP_CHECK_MS = 1_000;
  private static final Duration METADATA_JOIN_TIMEOUT = Duration.ofMinutes(2);

  private final BrokerConfig config;
  private final MetricRegistry metrics = new MetricRegistry();
  private final NetworkMetrics networkMetrics = new NetworkMetrics(metrics);
  private final RaftNode raft;
  private final ExecutorService requestExecutor;
  private final ScheduledExecutorService scheduler;
  private final RequestDeadlines deadlines;
  private final ThreadPoolExecutor electionExecutor;
  private final MemoryProfile memory;
  private MetadataService metadata;
  private ApiRegistry apis;
  private PartitionReconciler reconciler;
  private TopicConfigApplier topicConfigs;
  private ReplicationThrottleApplier replicationThrottle;
  private ReassignmentDriver reassignments;
  private KafkaServer kafka;
  private AdminHttpServer admin;
  private ProcessMetrics processMetrics;
  private JmxReporter jmx;
  private RemoteLeaders remoteLeaders;
  private GroupCoordinator groups;
  private PreferredLeaderElector preferredLeaders;
  private volatile boolean draining;

  private Broker(BrokerConfig config) throws IOException {
    this.config = config;
    this.raft = new RaftNode(config.raft());
    this.requestExecutor = Executors.newFixedThreadPool(config.ioThreads(), named("skiff-request"));
    this.scheduler = Executors.newScheduledThreadPool(1, named("skiff-scheduler"));
    this.deadlines = new RequestDeadlines(named("skiff-request-deadlines"));
    this.electionExecutor =
        (ThreadPoolExecutor)
            Executors.newFixedThreadPool(ELECTION_THREADS, named("skiff-leader-election"));
    this.memory = new MemoryProfile(config.memory());
  }

  /** Starts a broker and registers it in the cluster metadata. */
  public static Broker start(BrokerConfig config) throws Exception {
    final Broker broker = new Broker(config);
    try {
      broker.startUp();
      return broker;
    } catch (Exception e) {
      broker.close();
      throw e;
    }
  }

  private void startUp() throws Exception {
    raft.start();
    startMetadata();
    // Early, unlike the listeners below: a new replica restarted mid-move must find the throttle
    // set before the leader's next snapshot notice starts its catch-up again.
    replicationThrottle = new ReplicationThrottleApplier(raft);
    metadata.addListener(replicationThrottle);
    remoteLeaders = new RemoteLeaders(raft.membership(), metadata::image);
    final ClusterView cluster = new ClusterView(config.nodeId(), raft, metadata, remoteLeaders);
    networkMetrics.resolveTopicIdsWith(id -> cluster.topic(id).map(TopicInfo::name).orElse(null));
    groups = new GroupCoordinator(config.groups(), raft, metadata, metrics);
    apis = registry(cluster);
    GroupApis.register(apis, cluster, groups);
    memory.start(
        metrics, scheduler, networkMetrics::connections, raft::partitionCount, groups::groupCount);
    kafka =
        new KafkaServer(
            config.host(),
            config.kafkaPort(),
            config.networkThreads(),
            config.maxRequestBytes(),
            apis,
            requestExecutor,
            networkMetrics,
            connectionLimits());
    register();
    // Only now: registering waits until the local image has caught up, so a restarting broker
    // never acts on an old image replayed from the log (recreating a replica moved away since).
    reconciler = new PartitionReconciler(raft);
    metadata.addListener(reconciler);
    topicConfigs = new TopicConfigApplier(raft);
    metadata.addListener(topicConfigs);
    reassignments = new ReassignmentDriver(raft, metadata, REASSIGNMENT_CATCH_UP);
    reassignments.start();
    groups.start();
    startAdmin();
    scheduler.scheduleWithFixedDelay(
        this::applyRetention, RETENTION_CHECK_MS, RETENTION_CHECK_MS, TimeUnit.MILLISECONDS);
    startPreferredLeaderElector();
    startMembershipTasks();
    LOG.info(
        "Broker {} up: Kafka {}:{}, Raft {}",
        config.nodeId(),
        config.advertisedHost(),
        kafka.port(),
        config.raft().address());
  }

  /**
   * Joins the metadata group: as a voter when {@code metadata.voters} names this broker, otherwise
   * as a non-voting listener that asks the group's leader to add it (a no-op on a restart, where it
   * is one already), so a new broker joins a running cluster by its configuration alone.
   */
  private void startMetadata() throws IOException, InterruptedException {
    final List<RaftPeer> voters =
        config.metadataVoters().stream().map(v -> RaftNode.peer(v.nodeId(), v.address())).toList();
    final boolean voter =
        config.metadataVoters().stream().anyMatch(v -> v.nodeId() == config.nodeId());
    metadata = raft.startMetadata(voters, voter ? List.of() : List.of(raft.self()));
    if (!voter) {
      LOG.info(
          "Broker {} is not in metadata.voters; joining the metadata group as a listener",
          config.nodeId());
      raft.metadataListeners().join(raft.self(), METADATA_JOIN_TIMEOUT);
    }
  }

  private void startPreferredLeaderElector() {
    preferredLeaders =
        new PreferredLeaderElector(config.nodeId(), raft, metadata::image, electionExecutor);
    if (config.autoLeaderRebalance()) {
      scheduler.scheduleWithFixedDelay(
          preferredLeaders::check,
          FIRST_PREFERRED_CHECK_MS,
          config.leaderImbalanceCheckMs(),
          TimeUnit.MILLISECONDS);
    }
  }

  /** Maintenance (leading nothing) and decommission (moving replicas off draining brokers). */
  private void startMembershipTasks() {
    final MaintenanceMode maintenance =
        new MaintenanceMode(
            config.nodeId(),
            raft,
            metadata::image,
            new LeadershipDrain(config.nodeId(), raft, metadata::image, electionExecutor),
            preferredLeaders::check);
    final ReplicaEvacuator evacuator = new ReplicaEvacuator(raft, metadata);
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            if (!draining) {
              maintenance.check();
              evacuator.check();
            }
          } catch (RuntimeException e) {
            LOG.warn("Broker {} membership check failed; retried in 1 s", config.nodeId(), e);
          }
        },
        MEMBERSHIP_CHECK_MS,
        MEMBERSHIP_CHECK_MS,
        TimeUnit.MILLISECONDS);
  }

  private ConnectionLimits connectionLimits() {
    return new ConnectionLimits(
        memory.frameAllocator(),
        memory.produceMemory(),
        config.memory().produceMaxBlockMs(),
        memory.backpressure(),
        config.memory().maxConnections(),
        config.memory().tier().name());
  }

  private ApiRegistry registry(ClusterView cluster) {
    final ApiRegistry registry = new ApiRegistry();
    registry
        .register(ApiKeys.API_VERSIONS, 0, new ApiVersionsHandler(registry))
        .register(
            ApiKeys.METADATA,
            0,
            new MetadataHandler(
                cluster,
                config.autoCreateTopics(),
                config.defaultPartitions(),
                config.defaultReplicationFactor(),
                config.clusterId(),
                memory.partitionLimit()))
        .register(
            ApiKeys.PRODUCE,
            3,
            new ProduceHandler(
                cluster, deadlines, config.minInsyncReplicas(), config.replicaLagTimeMs()))
        .register(ApiKeys.FETCH, 4, new FetchHandler(cluster, scheduler, requestExecutor))
        .register(ApiKeys.LIST_OFFSETS, 1, new ListOffsetsHandler(cluster))
        .register(
            ApiKeys.CREATE_TOPICS,
            2,
            new CreateTopicsHandler(
                cluster,
                config.defaultPartitions(),
                config.defaultReplicationFactor(),
                memory.partitionLimit()))
        .register(ApiKeys.DELETE_TOPICS, 1, new DeleteTopicsHandler(cluster))
        .register(ApiKeys.DELETE_RECORDS, 0, new DeleteRecordsHandler(cluster))
        .register(ApiKeys.DESCRIBE_LOG_DIRS, 1, new DescribeLogDirsHandler(cluster))
        .register(
            ApiKeys.CREATE_PARTITIONS,
            0,
            new CreatePartitionsHandler(cluster, memory.partitionLimit()))
        .register(
            ApiKeys.DESCRIBE_CLUSTER, 0, new DescribeClusterHandler(cluster, config.clusterId()))
        .register(ApiKeys.ELECT_LEADERS, 0, new ElectLeadersHandler(cluster, electionExecutor))
        .register(
            ApiKeys.ALTER_PARTITION_REASSIGNMENTS,
            0,
            new AlterPartitionReassignmentsHandler(cluster))
        .register(
            ApiKeys.LIST_PARTITION_REASSIGNMENTS,
            0,
            new ListPartitionReassignmentsHandler(cluster));
    registerConfigApis(registry, cluster);
    registry.register(
        ApiKeys.INIT_PRODUCER_ID, 0, new InitProducerIdHandler(new ProducerIdBlock(metadata)));
    return registry;
  }

  private void registerConfigApis(ApiRegistry registry, ClusterView cluster) {
    final TopicConfigSchema topicConfigs =
        new TopicConfigSchema(config.logConfig(), config.minInsyncReplicas());
    registry
        .register(
            ApiKeys.DESCRIBE_CONFIGS,
            1,
            new DescribeConfigsHandler(
                cluster,
                topicConfigs,
                config.effectiveProperties(),
                BrokerConfig.defaultProperties()))
        .register(
            ApiKeys.INCREMENTAL_ALTER_CONFIGS,
            0,
            new IncrementalAlterConfigsHandler(cluster, topicConfigs));
  }

  private void startAdmin() throws IOException {
    processMetrics = new ProcessMetrics(metrics);
    metrics.gauge("raft.partitions", () -> raft::partitionCount);
    PartitionGauges.register(metrics, raft, metadata::image, config.replicaLagTimeMs());
    CleanerGauges.register(metrics, raft);
    final ElectionCounters elections = new ElectionCounters(raft.self().getId());
    metrics.register("raft.elections", new SourcedCounter(elections::elections));
    metrics.register("raft.leader.changes", new SourcedCounter(raft::leaderChanges));
    // Group commit of partition flushes: requests / rounds is how many flushes one syncfs served.
    metrics.register("log.syncfs.rounds", new SourcedCounter(raft::fileSystemSyncRounds));
    metrics.register("log.syncfs.requests", new SourcedCounter(raft::fileSystemSyncRequests));
    // How long each round's syncfs took: the floor under an acks=all produce's latency.
    final LatencyHistogram syncfsTime = new LatencyHistogram();
    metrics.register("log.syncfs.time", syncfsTime);
    raft.onFileSystemSyncTime(syncfsTime::record);
    metrics.register("raft.log.restarts", new SourcedCounter(raft::raftLogRestarts));
    metrics.gauge("raft.log.failed", () -> raft::failedRaftLogs);
    metrics.gauge("raft.log.backoff", () -> raft::backingOffRaftLogs);
    final LatencyHistogram commitLatency = new LatencyHistogram();
    metrics.register("raft.commit.latency", commitLatency);
    raft.onCommitLatency(commitLatency::record);
    metrics.register("raft.election.timeouts", new SourcedCounter(elections::electionTimeouts));
    metrics.gauge("raft.peers.unreachable", () -> raft::unreachablePeers);
    metrics.register("raft.leader.takeovers", new SourcedCounter(raft::leaderTakeovers));
    metrics.register(
        "raft.leadership.transfers", new SourcedCounter(elections::leadershipTransfers));
    metrics.gauge("index.mapped.bytes", () -> () -> raft.indexBudget().mappedBytes());
    metrics.gauge("index.mapped.max.bytes", () -> () -> raft.indexBudget().maxMappedBytes());
    metrics.gauge("index.evictions", () -> () -> raft.indexBudget().evictions());
    metrics.gauge("index.native.calls", () -> () -> raft.config().indexHints().calls());
    metrics.gauge("index.native.failures", () -> () -> raft.config().indexHints().failures());
    metrics.gauge("index.mlock.skips", () -> () -> raft.config().indexHints().lockSkips());
    metrics.gauge("index.mlock.bytes", () -> () -> raft.config().indexHints().lockedBytes());
    metrics.gauge(
        "replica.fetch.buffered.bytes", () -> () -> raft.replicaFetcher().bufferedBytes());
    metrics.gauge(
        "replica.fetch.buffered.peak.bytes", () -> () -> raft.replicaFetcher().peakBufferedBytes());
    metrics.gauge("replica.fetch.catchups", () -> () -> raft.replicaFetcher().activeCatchUps());
    metrics.gauge(
        "replica.fetch.throttled.bytes", () -> () -> raft.replicaFetcher().throttledBytes());
    metrics.gauge("replication.throttle.rate", () -> () -> raft.replicaFetcher().throttle().rate());
    metrics.gauge(
        "replica.fetch.applier.alive", () -> () -> raft.replicaFetcher().applierAlive() ? 1 : 0);
    metrics.gauge("metadata.applied.index", () -> () -> metadata.image().appliedIndex());
    metrics.gauge("leader.elections.active", () -> electionExecutor::getActiveCount);
    metrics.gauge("leader.lookups", () -> remoteLeaders::lookups);
    metrics.gauge(
        "producers.idempotent",
        () -> () -> raft.partitions().stream().mapToLong(p -> p.producerCount()).sum());
    metrics.gauge(
        "produce.duplicates.answered",
        () -> () -> raft.partitions().stream().mapToLong(p -> p.duplicateAppends()).sum());
    final PageCacheHitRatio pageCache =
        new PageCacheHitRatio(PageCacheHitRatio.processDiskReads(), networkMetrics::zeroCopyBytes);
    metrics.register("page.cache.hit.ratio", pageCache);
    scheduler.scheduleWithFixedDelay(pageCache::sample, 10, 10, TimeUnit.SECONDS);
    jmx = JmxReporter.forRegistry(metrics).inDomain("io.skiff.broker-" + config.nodeId()).build();
    jmx.start();
    metrics.gauge("reassignment.driver.scans", () -> reassignments::scans);
    metrics.gauge("reassignments.completed", () -> reassignments::completed);
    admin =
        AdminHttpServer.start(
            new InetSocketAddress(config.host(), config.adminPort()), metrics, this::health);
    addMemoryCategories();
    admin.registerJson("/v1/memory", () -> memory.toJson(config.nodeId(), pageCache.getValue()));
    new BrokerMembershipApi(metadata, raft.metadataListeners(), electionExecutor).register(admin);
  }

  /** The memory-report categories kept outside the memory profile itself. */
  private void addMemoryCategories() {
    memory.addCategory(
        MemoryCategory.bytes(
            "index mmap",
            () -> raft.indexBudget().mappedBytes(),
            () -> raft.indexBudget().maxMappedBytes(),
            "lower retention or raise max.mapped.index.bytes (cold indexes are unmapped)"));
    memory.addCategory(
        // At the cap, further active indexes are simply not locked (index.mlock.skips).
        MemoryCategory.capped(
            "index mlock",
            () -> raft.config().indexHints().lockedBytes(),
            () -> raft.config().indexHints().mlockMaxBytes()));
    memory.addCategory(
        // Estimated at OffsetCache.ENTRY_OVERHEAD_BYTES per entry, as the cap is set in entries.
        MemoryCategory.bytes(
            "offset cache",
            () -> groups.cache().estimatedBytes(),
            () -> (long) groups.cache().maxEntries() * OffsetCache.ENTRY_OVERHEAD_BYTES,
            "raise offsets.cache.max.entries or delete unused consumer groups"));
    memory.addCategory(
        MemoryCategory.bytes(
            "replica fetch buffer",
            () -> raft.replicaFetcher().bufferedBytes(),
            () -> raft.replicaFetcher().config().globalMaxBytes(),
            "raise replica.fetch.buffer.max.bytes"));
    memory.addCategory(
        MemoryCategory.count(
            "partitions",
            raft::partitionCount,
            () -> config.memory().maxPartitions(),
            "move partitions to other brokers"));
    memory.addCategory(
        MemoryCategory.count(
            "connections",
            networkMetrics::connections,
            () -> config.memory().maxConnections(),
            "add brokers or pool the clients' connections"));
  }

  private HealthStatus health() {
    if (draining) {
      return HealthStatus.unavailable("broker " + config.nodeId() + " is shutting down");
    }
    if (metadata.image().broker(config.nodeId()).isEmpty()) {
      return HealthStatus.unavailable("broker " + config.nodeId() + " is not registered yet");
    }
    return HealthStatus.ok(
        "broker " + config.nodeId() + " serving " + raft.partitionCount() + " partition replicas");
  }

  /** The admin HTTP port (bound; the configured one or an ephemeral one when it was 0). */
  public int adminPort() {
    return admin.port();
  }

  /**
   * Registers this broker, retrying until the metadata group takes it: while it elects its first
   * leader, while a majority of its voters is still starting, or while a loaded machine keeps
   * electing. The broker does not give up (a Kafka broker waits for its controller the same way);
   * it is not healthy until registered, and says every 30 s what it waits for.
   */
  private void register() throws Exception {
    final BrokerInfo self =
        new BrokerInfo(
            config.nodeId(),
            config.advertisedHost(),
            kafka.port(),
            config.raftPort(),
            config.rack(),
            true);
    final long start = System.nanoTime();
    long nextWarning = start + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        metadata.registerBroker(self).get(30, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException | TimeoutException e) {
        final long now = System.nanoTime();
        if (now >= nextWarning) {
          nextWarning = now + TimeUnit.SECONDS.toNanos(30);
          LOG.warn(
              "Broker {} is still not registered in the metadata group after {} s ({}); are a"
                  + " majority of metadata.voters {} up and reachable on their Raft ports?",
              config.nodeId(),
              TimeUnit.NANOSECONDS.toSeconds(now - start),
              e instanceof TimeoutException ? "no answer in 30 s" : e.getCause().toString(),
              config.metadataVoters().stream().map(BrokerConfig.Voter::spec).toList());
        } else {
          LOG.info("Waiting for the metadata group to register broker {}", config.nodeId());
        }
        Thread.sleep(500);
      }
    }
  }

  private void applyRetention() {
    for (var topic : metadata.image().topics().values()) {
      for (int p = 0; p < topic.partitionCount(); p++) {
        raft.partition(topic.partition(p))
            .ifPresent(
                replica -> {
                  try {
                    replica.applyRetention();
                  } catch (IOException | RuntimeException e) {
                    LOG.warn("Retention of {} failed: {}", replica.id(), e.toString());
                  }
                });
      }
    }
  }

  public BrokerConfig config() {
    return config;
  }

  public MetricRegistry metrics() {
    return metrics;
  }

  public NetworkMetrics networkMetrics() {
    return networkMetrics;
  }

  /** Who leads partitions hosted elsewhere; package-private for tests. */
  RemoteLeaders remoteLeaders() {
    return remoteLeaders;
  }

  public RaftNode raft() {
    return raft;
  }

  /** The memory profile: pools, pressure level, tier limits. */
  public MemoryProfile memory() {
    return memory;
  }

  /** The Kafka APIs this broker answers, for tests that call handlers directly. */
  ApiRegistry apis() {
    return apis;
  }

  /** The bound Kafka port (the configured one, or the ephemeral one when it was 0). */
  public int kafkaPort() {
    return kafka.port();
  }

  public String bootstrapAddress() {
    return config.advertisedHost() + ":" + kafka.port();
  }

  /**
   * Graceful stop (SIGTERM): reports itself unhealthy, hands every leadership it holds to another
   * replica ({@link LeadershipDrain}), stops accepting connections, waits until the requests in
   * flight are answered, then {@link #close}s. Each step is bounded by {@code timeout}, so a stuck
   * step delays the stop but never prevents it.
   */
  public void shutdown(Duration timeout) {
    draining = true;
    final long started = System.nanoTime();
    try {
      if (preferredLeaders != null) {
        preferredLeaders.stop();
      }
      if (metadata != null) {
        new LeadershipDrain(config.nodeId(), raft, metadata::image, electionExecutor)
            .drain(timeout);
      }
      if (kafka != null) {
        kafka.stopAccepting();
        awaitRequestsAnswered(timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      LOG.info(
          "Broker {} drained in {} ms",
          config.nodeId(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      close();
    }
  }

  private void awaitRequestsAnswered(Duration timeout) throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    while (networkMetrics.inFlightRequests() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    if (networkMetrics.inFlightRequests() > 0) {
      LOG.warn(
          "Broker {} stops with {} requests unanswered after {} ms",
          config.nodeId(),
          networkMetrics.inFlightRequests(),
          timeout.toMillis());
    }
  }

  @Override
  public void close() {
    if (admin != null) {
      admin.close();
    }
    if (jmx != null) {
      jmx.close();
    }
    if (processMetrics != null) {
      processMetrics.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    if (groups != null) {
      groups.close();
    }
    if (remoteLeaders != null) {
      remoteLeaders.close();
    }
    memory.close();
    if (reassignments != null) {
      reassignments.close();
    }
    if (topicConfigs != null) {
      metadata.removeListener(topicConfigs);
    }
    if (replicationThrottle != null) {
      metadata.removeListener(replicationThrottle);
    }
    if (reconciler != null) {
      metadata.removeListener(reconciler);
      reconciler.close();
    }
    scheduler.shutdownNow();
    deadlines.close();
    electionExecutor.shutdownNow();
    requestExecutor.shutdown();
    try {
      raft.close();
    } catch (IOException e) {
      LOG.warn("Raft node did not close cleanly", e);
    }
    requestExecutor.shutdownNow();
    LOG.info("Broker {} stopped", config.nodeId());
  }

  static java.util.concurrent.ThreadFactory named(String prefix) {
    final AtomicInteger ids = new AtomicInteger();
    return r -> {
      final Thread t = new Thread(r, prefix + "-" + ids.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
