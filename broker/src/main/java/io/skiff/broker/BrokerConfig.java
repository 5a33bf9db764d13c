package io.skiff.broker;

import io.skiff.broker.group.GroupConfig;
import io.skiff.broker.group.OffsetCache;
import io.skiff.broker.memory.MemoryConfig;
import io.skiff.log.LogConfig;
import io.skiff.log.NativeMemory;
import io.skiff.raft.RaftNodeConfig;
import io.skiff.raft.RaftRpcType;
import io.skiff.raft.catchup.ReplicaFetchConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A broker's configuration: a properties file with Kafka's key names where Kafka has one, each key
 * overridable by an environment variable {@code SKIFF_<KEY>} (upper case, dots and dashes as
 * underscores: {@code SKIFF_LOG_SEGMENT_BYTES}). Validated on construction; an error names the key
 * and says what is expected.
 *
 * @param nodeId {@code node.id}
 * @param host {@code listener.host}: interface the Kafka and Raft listeners bind to
 * @param advertisedHost {@code advertised.host}: the host clients are told to connect to
 * @param rack {@code broker.rack} (none): the rack (or zone) this broker is in; placement spreads
 *     replicas over racks, and clients see it in Metadata and DescribeCluster
 * @param kafkaPort {@code listener.port} (9092)
 * @param raftPort {@code raft.port} (9093)
 * @param adminPort {@code admin.port} (9644)
 * @param dataDir {@code log.dirs}: one data directory
 * @param metadataVoters {@code metadata.voters}: {@code id@host:raftPort,...}, the 1, 3 or 5
 *     metadata voters; a broker not listed joins the metadata group as a non-voting listener
 * @param autoCreateTopics {@code auto.create.topics.enable} (false, as production Kafka)
 * @param defaultPartitions {@code num.partitions} (1)
 * @param defaultReplicationFactor {@code default.replication.factor} (1)
 * @param minInsyncReplicas {@code min.insync.replicas} (1): with {@code acks=all}, a partition
 *     whose leader has fewer replicas in sync (itself included) answers NOT_ENOUGH_REPLICAS at once
 * @param replicaLagTimeMs {@code replica.lag.time.max.ms} (30000): a voter the leader has not heard
 *     from for longer is out of sync unless it holds every entry of the leader's log and its broker
 *     is reachable
 * @param maxRequestBytes {@code socket.request.max.bytes} (100 MiB): larger frames close the
 *     connection
 * @param ioThreads {@code num.io.threads}: request handler threads
 * @param networkThreads {@code num.network.threads}: Netty event loop threads
 * @param clusterId {@code cluster.id}
 * @param logConfig the partition log settings ({@code log.*}, {@code message.max.bytes})
 * @param raft the Raft node settings derived from the above
 * @param memory the memory profile: {@code skiff.tier} and the keys that override its defaults
 *     (also the default of {@code max.mapped.index.bytes})
 * @param groups the group coordinator settings ({@code offsets.*}, {@code group.*})
 * @param autoLeaderRebalance {@code auto.leader.rebalance.enable} (true): this broker takes back
 *     the leadership of the partitions whose preferred replica it is, once caught up
 * @param leaderImbalanceCheckMs {@code leader.imbalance.check.interval.seconds} (30 s; Kafka's
 *     300): how often it checks
 */
public record BrokerConfig(
    int nodeId,
    String host,
    String advertisedHost,
    String rack,
    int kafkaPort,
    int raftPort,
    int adminPort,
    Path dataDir,
    List<Voter> metadataVoters,
    boolean autoCreateTopics,
    int defaultPartitions,
    short defaultReplicationFactor,
    int minInsyncReplicas,
    long replicaLagTimeMs,
    int maxRequestBytes,
    int ioThreads,
    int networkThreads,
    String clusterId,
    LogConfig logConfig,
    RaftNodeConfig raft,
    MemoryConfig memory,
    GroupConfig groups,
    boolean autoLeaderRebalance,
    long leaderImbalanceCheckMs) {

  /** One metadata voter: {@code id@host:raftPort}. */
  public record Voter(int nodeId, String host, int raftPort) {
    public String address() {
      return host + ":" + raftPort;
    }

    /** The voter as {@code metadata.voters} spells it. */
    public String spec() {
      return nodeId + "@" + address();
    }
  }

  /** Reads a properties file, then applies {@code SKIFF_*} environment overrides. */
  public static BrokerConfig load(Path file, Map<String, String> env) throws IOException {
    final Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file)) {
      p.load(in);
    }
    final Map<String, String> values = new HashMap<>();
    p.stringPropertyNames().forEach(k -> values.put(k, p.getProperty(k).trim()));
    return fromMap(withEnvironment(values, env));
  }

  /**
   * Overlays {@code SKIFF_*} variables onto properties: SKIFF_LOG_SEGMENT_BYTES →
   * log.segment.bytes.
   */
  static Map<String, String> withEnvironment(Map<String, String> values, Map<String, String> env) {
    final Map<String, String> merged = new HashMap<>(values);
    final Map<String, String> byEnvName = new HashMap<>();
    for (String key : KNOWN_KEYS) {
      byEnvName.put(envName(key), key);
    }
    for (String key : MemoryConfig.KEYS) {
      byEnvName.put(envName(key), key);
    }
    for (String key : GroupConfig.KEYS) {
      byEnvName.put(envName(key), key);
    }
    for (String key : values.keySet()) {
      byEnvName.put(envName(key), key);
    }
    for (Map.Entry<String, String> e : env.entrySet()) {
      final String key = byEnvName.get(e.getKey());
      if (key != null) {
        merged.put(key, e.getValue().trim());
      }
    }
    return merged;
  }

  static String envName(String key) {
    return "SKIFF_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /**
   * Lower bound of every Raft group's election timeout on this broker (metadata and partitions).
   * Leaders heartbeat each follower every half of it, so it sets what idle groups cost. A dead
   * broker's groups do not wait it out: the survivors' leader takeover elects within {@code
   * raft.liveness.timeout.ms} and a few seconds. It only bounds how long a group whose leader fails
   * while its broker lives (a restarted replica, a lost transfer) goes without one.
   */
  static final String ELECTION_TIMEOUT_MIN = "raft.election.timeout.min.ms";

  /** Upper bound; each timeout is drawn between the two. */
  static final String ELECTION_TIMEOUT_MAX = "raft.election.timeout.max.ms";

  /**
   * Default of {@link #ELECTION_TIMEOUT_MIN}: a heartbeat per follower every 15 s, which keeps an
   * idle broker of 1 000 partitions under 5 % of a core (3.7–4.1 %; with 7.5 s heartbeats 5.5–5.7
   * %).
   */
  static final int DEFAULT_ELECTION_TIMEOUT_MIN_MS = 30_000;

  /** Default of {@link #ELECTION_TIMEOUT_MAX}. */
  static final int DEFAULT_ELECTION_TIMEOUT_MAX_MS = 60_000;

  private static final List<String> KNOWN_KEYS =
      List.of(
          "node.id",
          "listener.host",
          "advertised.host",
          "broker.rack",
          "listener.port",
          "raft.port",
          "admin.port",
          "log.dirs",
          "metadata.voters",
          "auto.create.topics.enable",
          "num.partitions",
          "default.replication.factor",
          "min.insync.replicas",
          "replica.lag.time.max.ms",
          "socket.request.max.bytes",
          "num.io.threads",
          "num.network.threads",
          "cluster.id",
          "auto.leader.rebalance.enable",
          "leader.imbalance.check.interval.seconds",
          "max.mapped.index.bytes",
          NativeMemory.NATIVE_HINTS,
          NativeMemory.MLOCK_MAX_BYTES,
          "raft.snapshot.entries",
          "raft.segment.bytes",
          "raft.entry.max.bytes",
          ELECTION_TIMEOUT_MIN,
          ELECTION_TIMEOUT_MAX,
          RaftNodeConfig.LIVENESS_INTERVAL,
          RaftNodeConfig.LIVENESS_TIMEOUT,
          RaftNodeConfig.SYNCFS_INTERVAL_MIN,
          RaftNodeConfig.APPEND_ENTRIES_IN_FLIGHT_MAX,
          RaftRpcType.KEY,
          "replica.fetch.max.bytes",
          "replica.fetch.response.max.bytes",
          "replica.fetch.buffer.max.bytes",
          "num.replica.fetchers",
          LogConfig.SEGMENT_BYTES,
          LogConfig.RETENTION_MS,
          LogConfig.RETENTION_BYTES,
          LogConfig.RETENTION_HOURS,
          LogConfig.MESSAGE_MAX_BYTES,
          LogConfig.CLEANUP_POLICY,
          LogConfig.DELETE_RETENTION_MS,
          LogConfig.MIN_CLEANABLE_RATIO,
          LogConfig.CLEANER_DEDUPE_BUFFER_SIZE,
          LogConfig.CLEANER_IO_BUFFER_SIZE);

  /**
   * {@code values} with {@code log.cleaner.dedupe.buffer.size} defaulted from the tier when unset:
   * a sixteenth of the tier's heap, at most Kafka's 128 MiB (the key map grows to it only when a
   * pass needs it, and one pass runs at a time).
   */
  private static Map<String, String> withCleanerDefault(
      Map<String, String> values, MemoryConfig memory) {
    if (values.containsKey(LogConfig.CLEANER_DEDUPE_BUFFER_SIZE)) {
      return values;
    }
    final Map<String, String> copy = new HashMap<>(values);
    copy.put(
        LogConfig.CLEANER_DEDUPE_BUFFER_SIZE,
        Long.toString(Math.min(128L << 20, memory.tier().heapBytes() / 16)));
    return copy;
  }

  /** Builds a config from key/value pairs; unknown keys are ignored (logged by the caller). */
  public static BrokerConfig fromMap(Map<String, String> values) {
    final TypedProperties k = new TypedProperties(values);
    final int nodeId = k.intValue("node.id", null);
    final String host = k.string("listener.host", "0.0.0.0");
    final String advertised =
        k.string("advertised.host", host.equals("0.0.0.0") ? "127.0.0.1" : host);
    final int raftPort = k.port("raft.port", 9093);
    final Path dataDir = Path.of(k.string("log.dirs", "/var/lib/skiff"));
    final List<Voter> voters =
        parseVoters(k.string("metadata.voters", nodeId + "@" + advertised + ":" + raftPort));
    final MemoryConfig memory = MemoryConfig.fromProperties(values);
    final LogConfig logConfig = LogConfig.fromProperties(withCleanerDefault(values, memory));
    final int cores = Runtime.getRuntime().availableProcessors();
    final int electionTimeoutMin =
        k.intValue(ELECTION_TIMEOUT_MIN, DEFAULT_ELECTION_TIMEOUT_MIN_MS);
    final int electionTimeoutMax =
        k.intValue(ELECTION_TIMEOUT_MAX, DEFAULT_ELECTION_TIMEOUT_MAX_MS);
    if (electionTimeoutMin < 100 || electionTimeoutMax <= electionTimeoutMin) {
      throw new IllegalArgumentException(
          ELECTION_TIMEOUT_MIN
              + " and "
              + ELECTION_TIMEOUT_MAX
              + " must satisfy 100 <= min < max (milliseconds), not "
              + electionTimeoutMin
              + " and "
              + electionTimeoutMax);
    }
    final RaftNodeConfig raft =
        new RaftNodeConfig(
            nodeId,
            advertised,
            raftPort,
            dataDir,
            logConfig,
            k.longValue("max.mapped.index.bytes", memory.tier().maxMappedIndexBytes()),
            true,
            k.longValue("raft.snapshot.entries", 10_000L),
            electionTimeoutMin,
            electionTimeoutMax,
            k.intValue("raft.segment.bytes", 4 << 20),
            new ReplicaFetchConfig(
                k.intValue("replica.fetch.max.bytes", 1 << 20),
                k.intValue("replica.fetch.response.max.bytes", 10 << 20),
                k.intValue("replica.fetch.buffer.max.bytes", 64 << 20),
                k.intValue("num.replica.fetchers", 1)),
            NativeMemory.fromProperties(values),
            k.intValue("raft.entry.max.bytes", 0),
            RaftRpcType.parse(k.string(RaftRpcType.KEY, RaftRpcType.DEFAULT.configValue())),
            k.intValue(
                RaftNodeConfig.LIVENESS_INTERVAL, RaftNodeConfig.DEFAULT_LIVENESS_INTERVAL_MS),
            k.intValue(RaftNodeConfig.LIVENESS_TIMEOUT, RaftNodeConfig.DEFAULT_LIVENESS_TIMEOUT_MS),
            k.intValue(
                RaftNodeConfig.SYNCFS_INTERVAL_MIN, RaftNodeConfig.DEFAULT_SYNCFS_INTERVAL_MIN_US),
            k.intValue(
                RaftNodeConfig.APPEND_ENTRIES_IN_FLIGHT_MAX,
                RaftNodeConfig.DEFAULT_APPEND_ENTRIES_IN_FLIGHT_MAX));
    return new BrokerConfig(
        nodeId,
        host,
        advertised,
        rack(k.string("broker.rack", "")),
        k.port("listener.port", 9092),
        raftPort,
        k.port("admin.port", 9644),
        dataDir,
        voters,
        k.bool("auto.create.topics.enable", false),
        k.positive("num.partitions", 1),
        (short) k.positive("default.replication.factor", 1),
        k.positive("min.insync.replicas", 1),
        k.positiveLong("replica.lag.time.max.ms", 30_000),
        k.positive("socket.request.max.bytes", 100 << 20),
        k.positive("num.io.threads", Math.max(2, cores)),
        k.positive("num.network.threads", Math.max(1, cores)),
        k.string("cluster.id", "skiff-cluster"),
        logConfig,
        raft,
        memory,
        GroupConfig.fromMap(
            values, memory.tier().offsetCacheBytes() / OffsetCache.ENTRY_OVERHEAD_BYTES),
        k.bool("auto.leader.rebalance.enable", true),
        k.positiveLong("leader.imbalance.check.interval.seconds", 30) * 1000);
  }

  private static String rack(String rack) {
    if (rack.length() > 255) {
      throw new IllegalArgumentException(
          "broker.rack is " + rack.length() + " characters long; use at most 255");
    }
    return rack;
  }

  /**
   * The settings in force, under the property keys they are read from, for DescribeConfigs:
   * defaults included, durations in their {@code .ms} form.
   */
  public SortedMap<String, String> effectiveProperties() {
    final SortedMap<String, String> p = new TreeMap<>();
    p.put("node.id", Integer.toString(nodeId));
    p.put("listener.host", host);
    p.put("advertised.host", advertisedHost);
    p.put("broker.rack", rack);
    p.put("listener.port", Integer.toString(kafkaPort));
    p.put("raft.port", Integer.toString(raftPort));
    p.put("admin.port", Integer.toString(adminPort));
    p.put("log.dirs", dataDir.toString());
    p.put("metadata.voters", String.join(",", metadataVoters.stream().map(Voter::spec).toList()));
    p.put("auto.create.topics.enable", Boolean.toString(autoCreateTopics));
    p.put("num.partitions", Integer.toString(defaultPartitions));
    p.put("default.replication.factor", Short.toString(defaultReplicationFactor));
    p.put("min.insync.replicas", Integer.toString(minInsyncReplicas));
    p.put("replica.lag.time.max.ms", Long.toString(replicaLagTimeMs));
    p.put("socket.request.max.bytes", Integer.toString(maxRequestBytes));
    p.put("num.io.threads", Integer.toString(ioThreads));
    p.put("num.network.threads", Integer.toString(networkThreads));
    p.put("cluster.id", clusterId);
    p.put("auto.leader.rebalance.enable", Boolean.toString(autoLeaderRebalance));
    p.put("leader.imbalance.check.interval.seconds", Long.toString(leaderImbalanceCheckMs / 1000));
    p.put("max.mapped.index.bytes", Long.toString(raft.maxMappedIndexBytes()));
    p.put(NativeMemory.NATIVE_HINTS, Boolean.toString(raft.indexHints().adviseEnabled()));
    p.put(NativeMemory.MLOCK_MAX_BYTES, Long.toString(raft.indexHints().mlockMaxBytes()));
    p.put("raft.snapshot.entries", Long.toString(raft.snapshotEntries()));
    p.put("raft.segment.bytes", Integer.toString(raft.raftSegmentBytes()));
    p.put("raft.entry.max.bytes", Integer.toString(raft.entryMaxBatchBytes()));
    p.put(ELECTION_TIMEOUT_MIN, Integer.toString(raft.electionTimeoutMinMs()));
    p.put(ELECTION_TIMEOUT_MAX, Integer.toString(raft.electionTimeoutMaxMs()));
    p.put(RaftNodeConfig.LIVENESS_INTERVAL, Integer.toString(raft.livenessIntervalMs()));
    p.put(RaftNodeConfig.LIVENESS_TIMEOUT, Integer.toString(raft.livenessTimeoutMs()));
    p.put(RaftNodeConfig.SYNCFS_INTERVAL_MIN, Integer.toString(raft.syncfsIntervalMinMicros()));
    p.put(
        RaftNodeConfig.APPEND_ENTRIES_IN_FLIGHT_MAX,
        Integer.toString(raft.appendEntriesInFlightMax()));
    p.put(RaftRpcType.KEY, raft.rpcType().configValue());
    p.put("replica.fetch.max.bytes", Integer.toString(raft.replicaFetch().partitionMaxBytes()));
    p.put(
        "replica.fetch.response.max.bytes",
        Integer.toString(raft.replicaFetch().responseMaxBytes()));
    p.put("replica.fetch.buffer.max.bytes", Integer.toString(raft.replicaFetch().globalMaxBytes()));
    p.put("num.replica.fetchers", Integer.toString(raft.replicaFetch().threads()));
    p.put(LogConfig.SEGMENT_BYTES, Integer.toString(logConfig.segmentBytes()));
    p.put(LogConfig.ROLL_MS, Long.toString(logConfig.rollMs()));
    p.put(LogConfig.INDEX_INTERVAL_BYTES, Integer.toString(logConfig.indexIntervalBytes()));
    p.put(LogConfig.INDEX_SIZE_MAX_BYTES, Integer.toString(logConfig.maxIndexBytes()));
    p.put(LogConfig.RETENTION_MS, Long.toString(logConfig.retentionMs()));
    p.put(LogConfig.RETENTION_BYTES, Long.toString(logConfig.retentionBytes()));
    p.put(LogConfig.FLUSH_INTERVAL_MESSAGES, Long.toString(logConfig.flushIntervalMessages()));
    p.put(LogConfig.FLUSH_INTERVAL_MS, Long.toString(logConfig.flushIntervalMs()));
    p.put(LogConfig.SEGMENT_DELETE_DELAY_MS, Long.toString(logConfig.fileDeleteDelayMs()));
    p.put(LogConfig.MESSAGE_MAX_BYTES, Integer.toString(logConfig.maxBatchBytes()));
    p.put(LogConfig.CLEANUP_POLICY, logConfig.policyName());
    p.put(LogConfig.DELETE_RETENTION_MS, Long.toString(logConfig.deleteRetentionMs()));
    p.put(LogConfig.MIN_CLEANABLE_RATIO, Double.toString(logConfig.minCleanableDirtyRatio()));
    p.put(
        LogConfig.CLEANER_DEDUPE_BUFFER_SIZE, Long.toString(logConfig.cleanerDedupeBufferBytes()));
    p.put(LogConfig.CLEANER_IO_BUFFER_SIZE, Integer.toString(logConfig.cleanerIoBufferBytes()));
    p.putAll(memory.properties());
    p.putAll(groups.properties());
    return p;
  }

  /**
   * The {@link #effectiveProperties} of a broker whose properties file sets nothing but a
   * placeholder {@code node.id}: a setting equal to its value here is a default.
   */
  public static SortedMap<String, String> defaultProperties() {
    return fromMap(Map.of("node.id", Integer.toString(Integer.MAX_VALUE))).effectiveProperties();
  }

  /** Parses {@code 1@host:9093,2@host:9193}. */
  static List<Voter> parseVoters(String spec) {
    final List<Voter> voters = new ArrayList<>();
    for (String part : spec.split(",")) {
      final String s = part.trim();
      final int at = s.indexOf('@');
      final int colon = s.lastIndexOf(':');
      if (at <= 0 || colon <= at + 1 || colon == s.length() - 1) {
        throw new IllegalArgumentException(
            "metadata.voters entry '" + s + "' must look like 1@host:9093");
      }
      try {
        voters.add(
            new Voter(
                Integer.parseInt(s.substring(0, at)),
                s.substring(at + 1, colon),
                Integer.parseInt(s.substring(colon + 1))));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "metadata.voters entry '" + s + "' must look like 1@host:9093", e);
      }
    }
    if (voters.size() != 1 && voters.size() != 3 && voters.size() != 5) {
      throw new IllegalArgumentException(
          "metadata.voters must list 1, 3 or 5 brokers but lists " + voters.size());
    }
    return List.copyOf(voters);
  }
}
